import { throwIfAborted } from '../../errors.js';
import type { DatasetCore } from '../core.js';

export type RowPredicate = (row: Readonly<Record<string, unknown>>, index: number) => boolean;
/** `{ label: 'cat' }` keeps rows whose values equal all given ones (arrays: any of). */
export type RowMatch = Readonly<Record<string, unknown>>;

/**
 * Physical row indices of `rows` (a view) that pass. Only the columns the predicate can see are
 * loaded: tabular values (whole chunks) and media cells built from the info column — no media read.
 */
export async function filterRows(
  core: DatasetCore,
  rows: Uint32Array,
  columns: readonly string[],
  predicate: RowPredicate | RowMatch,
  signal?: AbortSignal,
): Promise<Uint32Array> {
  const used = typeof predicate === 'function' ? columns : Object.keys(predicate);
  const values = new Map<string, unknown[]>();
  for (const c of used) values.set(c, await core.columnValues(c, signal));
  const test: RowPredicate =
    typeof predicate === 'function'
      ? predicate
      : (row) =>
          Object.entries(predicate).every(([k, want]) =>
            Array.isArray(want) ? want.includes(row[k]) : row[k] === want,
          );
  const out = new Uint32Array(rows.length);
  let n = 0;
  const row: Record<string, unknown> = {};
  for (let j = 0; j < rows.length; j++) {
    if ((j & 0xffff) === 0) throwIfAborted(signal, 'filter');
    const i = rows[j];
    for (const [c, v] of values) row[c] = v[i];
    if (test({ ...row }, j)) out[n++] = i;
  }
  return out.slice(0, n);
}
