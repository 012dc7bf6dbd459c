import type { Dataset } from '../../dataset/dataset.js';
import type { ParsedQuery } from './parse.js';
import { type Conjunct, type Literal, whereConjuncts } from './where.js';

/**
 * The rows of `ds` a query can need, given the simple conjuncts of its WHERE clause on `alias`:
 * the view filtered by those conjuncts as a Strata filter expression, so chunks whose statistics
 * rule them out are never read and only the matching rows are copied into DuckDB (which still
 * applies the whole WHERE clause). A conjunct the expression language would read differently from
 * DuckDB (an implicit cast, a column that is not a stored column of the view, a NULL or non-finite
 * literal) is left out; with none left, every row is kept.
 */
export async function pushdown(
  ds: Dataset,
  alias: string,
  parsed: ParsedQuery,
  signal?: AbortSignal,
): Promise<Dataset> {
  const where = whereConjuncts(parsed.serialized);
  if (where.table?.toLowerCase() !== alias.toLowerCase() || where.conjuncts.length === 0) return ds;
  const terms: string[] = [];
  for (const c of where.conjuncts) {
    if (!exactlyComparable(ds, c)) continue;
    const text = expressionOf(c);
    if (text === undefined) continue;
    try {
      ds.filter(text); // checked against the view's columns and types now; nothing is read
      terms.push(`(${text})`);
    } catch {
      // not expressible with the same meaning: DuckDB alone applies it
    }
  }
  if (terms.length === 0) return ds;
  return ds.filter(terms.join(' AND ')).collect({ signal });
}

/**
 * Whether the expression compares this column's values exactly as DuckDB does: not for float32
 * (DuckDB may compare in single precision, the expression in double) nor 64-bit integers (compared
 * as doubles beyond 2^53); IS [NOT] NULL always.
 */
function exactlyComparable(ds: Dataset, c: Conjunct): boolean {
  if (c.op === 'is null' || c.op === 'is not null') return true;
  if (!ds.hasColumn(c.column)) return false;
  const { dtype } = ds.columnInfo(c.column);
  return !['float16', 'float32', 'int64', 'uint64'].includes(dtype);
}

/** A conjunct as filter-expression text, or undefined when a literal has no exact spelling there. */
export function expressionOf(c: Conjunct): string | undefined {
  const col = `"${c.column.replace(/"/g, '""')}"`;
  switch (c.op) {
    case 'is null':
      return `${col} IS NULL`;
    case 'is not null':
      return `${col} IS NOT NULL`;
    case 'in': {
      const values = c.values.filter((v) => v !== null).map(literal);
      if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
      return `${col} IN (${values.join(', ')})`;
    }
    case 'between': {
      const [low, high] = [literal(c.low), literal(c.high)];
      return low === undefined || high === undefined ? undefined : `${col} BETWEEN ${low} AND ${high}`;
    }
    default: {
      const v = literal(c.value);
      return v === undefined ? undefined : `${col} ${c.op} ${v}`;
    }
  }
}

function literal(v: Literal): string | undefined {
  if (v === null) return undefined;
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? String(v) : undefined;
  return Number.isFinite(v) ? String(v) : undefined;
}
