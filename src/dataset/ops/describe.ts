import type { DatasetCore } from '../core.js';
import type { MediaCell } from '../cells.js';

/** Summary of one column, as `describe()` returns it. */
export interface ColumnSummary {
  readonly column: string;
  readonly htype: string;
  readonly dtype: string;
  readonly count: number;
  readonly nulls: number;
  readonly min?: number;
  readonly max?: number;
  readonly mean?: number;
  readonly std?: number;
  readonly distinct?: number;
  readonly top?: unknown;
  /** Media: the formats seen and the range of sizes (from the info column, no media read). */
  readonly formats?: Readonly<Record<string, number>>;
  readonly bytes: number;
}

export async function describeColumns(
  core: DatasetCore,
  rows: Uint32Array,
  columns: readonly string[],
  signal?: AbortSignal,
): Promise<ColumnSummary[]> {
  const out: ColumnSummary[] = [];
  for (const column of columns) {
    const c = core.columnManifest(column);
    const values = await core.columnValues(column, signal);
    const { bytes } = await core.reader(column).stats(signal);
    let nulls = 0;
    const base = { column, htype: c.htype, dtype: c.dtype, count: rows.length, bytes };
    if (core.isMedia(column)) {
      const formats: Record<string, number> = {};
      for (const i of rows) {
        const cell = values[i] as MediaCell | null;
        if (!cell) {
          nulls++;
          continue;
        }
        const f = cell.kind === 'image' ? cell.format : cell.info.format;
        formats[f] = (formats[f] ?? 0) + 1;
      }
      out.push({ ...base, nulls, formats });
      continue;
    }
    let n = 0,
      sum = 0,
      sq = 0,
      min = Infinity,
      max = -Infinity;
    const counts = new Map<string, number>();
    for (const i of rows) {
      const v = values[i];
      if (v === null || v === undefined) {
        nulls++;
        continue;
      }
      if (typeof v === 'number' || typeof v === 'bigint') {
        const x = Number(v);
        n++;
        sum += x;
        sq += x * x;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    }
    const top = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const numeric = n > 0 ? { min, max, mean: sum / n, std: Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2)) } : {};
    out.push({ ...base, nulls, ...numeric, ...(counts.size ? { distinct: counts.size, top } : {}) });
  }
  return out;
}
