import type { Dataset } from '../../dataset/dataset.js';
import type { ParsedQuery } from './parse.js';
import { type Conjunct, whereConjuncts } from './where.js';

/**
 * The rows of `ds` a query can need, given the simple conjuncts of its WHERE clause on `alias`.
 *
 * Wiring point for chunk pruning (issue 19, l19-expr): a scan that skips chunks whose min/max
 * statistics cannot satisfy `conjuncts` returns the surviving rows here as a view
 * (`ds.take(rows)`); the loader then copies only those rows, and DuckDB still applies the whole
 * WHERE clause. Until then every row is kept (a correct superset).
 */
export async function pushdown(ds: Dataset, alias: string, parsed: ParsedQuery): Promise<Dataset> {
  const where = whereConjuncts(parsed.serialized);
  if (where.table?.toLowerCase() !== alias.toLowerCase() || where.conjuncts.length === 0) return ds;
  return prune(ds, where.conjuncts);
}

/** Identity until per-chunk statistics land (see above). */
function prune(ds: Dataset, _conjuncts: readonly Conjunct[]): Promise<Dataset> {
  return Promise.resolve(ds);
}
