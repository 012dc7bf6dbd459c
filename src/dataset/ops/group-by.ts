import type { DatasetCore } from '../core.js';

export interface GroupCount {
  readonly key: unknown;
  readonly count: number;
}

/** Rows per distinct value of a tabular column (e.g. images per label), most frequent first. */
export async function countBy(
  core: DatasetCore,
  rows: Uint32Array,
  column: string,
  signal?: AbortSignal,
): Promise<GroupCount[]> {
  const values = await core.columnValues(column, signal);
  const counts = new Map<unknown, number>();
  for (const i of rows) {
    const v = values[i];
    const key = Array.isArray(v) ? JSON.stringify(v) : v;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
}

/** The rows of each group, for `groupBy(column).rows()`. */
export async function groupRows(
  core: DatasetCore,
  rows: Uint32Array,
  column: string,
  signal?: AbortSignal,
): Promise<Map<unknown, Uint32Array>> {
  const values = await core.columnValues(column, signal);
  const groups = new Map<unknown, number[]>();
  for (const i of rows) {
    const key = values[i];
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  return new Map([...groups].map(([k, v]) => [k, Uint32Array.from(v)]));
}
