import type { DatasetCore } from '../core.js';

/** Stable sort of a view's rows by one tabular column; nulls last. */
export async function sortRows(
  core: DatasetCore,
  rows: Uint32Array,
  column: string,
  options: { descending?: boolean; signal?: AbortSignal } = {},
): Promise<Uint32Array> {
  const values = await core.columnValues(column, options.signal);
  const dir = options.descending ? -1 : 1;
  const order = Array.from(rows.keys());
  order.sort((a, b) => {
    const x = values[rows[a]] as number | string | bigint | null;
    const y = values[rows[b]] as number | string | bigint | null;
    if (x === y) return a - b;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : x > y ? 1 : 0) * dir || a - b;
  });
  return Uint32Array.from(order, (k) => rows[k]);
}
