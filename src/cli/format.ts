/** Output helpers: JSON-safe values (typed arrays, bigints, media cells) and byte sizes. */

/** A value as plain JSON: typed arrays → arrays, bigint → number (string beyond 2^53), cells → their toJSON. */
export function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (ArrayBuffer.isView(v)) {
    if (v instanceof DataView) return null;
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => plain(x));
  }
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const j = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof j === 'function') return plain(j.call(v));
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

export function json(v: unknown): string {
  return JSON.stringify(plain(v));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = n;
  let i = -1;
  do {
    x /= 1024;
    i++;
  } while (x >= 1024 && i < units.length - 1);
  return `${x.toFixed(x < 10 ? 2 : 1)} ${units[i]}`;
}

/** A plain text table: header row, then rows, columns padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((x, k) => (x ?? '').padEnd(widths[k]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
