/** Options for `print()` / `format()`. */
export interface FormatOptions {
  /** Rows shown: the first half and the last half of this many. Default 10. */
  readonly rows?: number;
  /** Widest a cell may be, in characters. Default 32. */
  readonly maxCellWidth?: number;
  readonly signal?: AbortSignal;
}

/**
 * A DataFrame-like text table of a view: only the rows shown are read, media cells render from
 * the info column (`<image 640×480×3 jpeg>`) so no media chunk is touched.
 */
export async function formatTable(
  length: number,
  columns: readonly string[],
  read: (column: string, positions: readonly number[], signal?: AbortSignal) => Promise<unknown[]>,
  options: FormatOptions = {},
): Promise<string> {
  const limit = options.rows ?? 10;
  const width = options.maxCellWidth ?? 32;
  const shown: number[] = [];
  if (length <= limit) for (let j = 0; j < length; j++) shown.push(j);
  else {
    const half = Math.ceil(limit / 2);
    for (let j = 0; j < half; j++) shown.push(j);
    for (let j = length - (limit - half); j < length; j++) shown.push(j);
  }
  const cells: string[][] = [];
  for (const c of columns) {
    const vals = await read(c, shown, options.signal);
    cells.push(vals.map((v) => clip(render(v), width)));
  }
  const header = ['', ...columns];
  const body = shown.map((j, r) => [String(j), ...cells.map((col) => col[r])]);
  if (length > limit) {
    const half = Math.ceil(limit / 2);
    body.splice(half, 0, ['…', ...columns.map(() => '…')]);
  }
  const widths = header.map((h, k) => Math.max(h.length, ...body.map((r) => r[k].length)));
  const line = (r: string[]) =>
    r
      .map((x, k) => (k === 0 ? x.padStart(widths[k]) : x.padEnd(widths[k])))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line), `[${length} rows × ${columns.length} columns]`].join('\n');
}

export function render(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Float32Array || v instanceof Float64Array) {
    const head = Array.from(v.subarray(0, 3), (x) => Number(x.toFixed(3)));
    return `[${head.join(', ')}${v.length > 3 ? ', …' : ''}] (${v.length})`;
  }
  const s = customString(v);
  if (s !== undefined && !s.startsWith('[object')) return s;
  if (v && typeof v === 'object' && 'shape' in v && 'dtype' in v)
    return `<tensor ${(v as { shape: number[] }).shape.join('×')} ${(v as { dtype: string }).dtype}>`;
  return JSON.stringify(v) ?? Object.prototype.toString.call(v);
}

/** `v.toString()` when `v` (not null or undefined) has one other than Object's `[object …]` one. */
function customString(v: unknown): string | undefined {
  const { toString } = v as { toString?: unknown };
  if (typeof toString !== 'function' || toString === Object.prototype.toString) return undefined;
  const s = (v as { toString(): unknown }).toString();
  return typeof s === 'string' ? s : undefined;
}

function clip(s: string, width: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > width ? `${one.slice(0, width - 1)}…` : one;
}
