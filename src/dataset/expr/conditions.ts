import { type ChunkStats, compareStrings } from '../../format/chunk-stats.js';
import type { ColumnSchema } from '../../format/manifest-v2.js';
import type { CompareOp, Expr } from './ast.js';
import { compareNumbers } from './kernels.js';

/** A condition on one column that a chunk's statistics may refute (so the chunk is not read). */
export interface ColumnCondition {
  readonly column: string;
  /** Whether a null value can satisfy it (IS NULL): rows no chunk covers read as null. */
  readonly acceptsNull: boolean;
  /** False when no row of a chunk with these stats can satisfy the condition. */
  mayMatch(stats: ChunkStats, samples: number): boolean;
}

type Bound = number | string;

/**
 * The conditions of the top-level conjunction of `e` that chunk statistics can refute: a column
 * compared with a literal (`=`, `<`, `<=`, `>`, `>=`), `BETWEEN` two literals, `IN` literals,
 * `IS [NOT] NULL`. Every row the whole expression keeps satisfies each of them. Class-label
 * columns are compared by id (stats hold ids), so only `=` and `IN` prune them.
 */
export function pushableConditions(e: Expr, schema: (name: string) => ColumnSchema | undefined): ColumnCondition[] {
  const out: ColumnCondition[] = [];
  const visit = (x: Expr): void => {
    if (x.kind === 'logic' && x.op === 'AND') {
      visit(x.left);
      visit(x.right);
      return;
    }
    const c = conditionOf(x, schema);
    if (c) out.push(c);
  };
  visit(e);
  return out;
}

const FLIP: Readonly<Record<CompareOp, CompareOp>> = {
  '=': '=',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

function conditionOf(x: Expr, schema: (name: string) => ColumnSchema | undefined): ColumnCondition | undefined {
  if (x.kind === 'isNull' && x.arg.kind === 'column') {
    const negated = x.negated;
    return {
      column: x.arg.name,
      acceptsNull: !negated,
      mayMatch: (s, samples) => (negated ? s.nulls < samples : s.nulls > 0),
    };
  }
  if (x.kind === 'compare') {
    const [col, lit, op] =
      x.left.kind === 'column' && x.right.kind === 'literal'
        ? [x.left, x.right, x.op]
        : x.right.kind === 'column' && x.left.kind === 'literal'
          ? [x.right, x.left, FLIP[x.op]]
          : [undefined, undefined, x.op];
    if (!col || !lit) return undefined;
    const c = schema(col.name);
    if (!c || op === '!=' || (c.htype === 'class_label' && op !== '=')) return undefined;
    const v = statsValue(c, lit.value);
    if (v === undefined) return undefined;
    return { column: col.name, acceptsNull: false, mayMatch: (s) => mayCompare(s, op, v) };
  }
  if (
    x.kind === 'between' &&
    !x.negated &&
    x.arg.kind === 'column' &&
    x.lo.kind === 'literal' &&
    x.hi.kind === 'literal'
  ) {
    const c = schema(x.arg.name);
    if (!c || c.htype === 'class_label') return undefined;
    const lo = statsValue(c, x.lo.value);
    const hi = statsValue(c, x.hi.value);
    if (lo === undefined || hi === undefined) return undefined;
    return {
      column: x.arg.name,
      acceptsNull: false,
      mayMatch: (s) => mayCompare(s, '>=', lo) && mayCompare(s, '<=', hi),
    };
  }
  if (x.kind === 'in' && !x.negated && x.arg.kind === 'column' && x.list.every((l) => l.kind === 'literal')) {
    const c = schema(x.arg.name);
    if (!c) return undefined;
    const values: Bound[] = [];
    for (const l of x.list) {
      if (l.kind !== 'literal' || l.value === null) continue; // x = NULL is never true
      const v = statsValue(c, l.value);
      if (v === undefined) return undefined;
      values.push(v);
    }
    return { column: x.arg.name, acceptsNull: false, mayMatch: (s) => values.some((v) => mayCompare(s, '=', v)) };
  }
  return undefined;
}

/** A literal in the domain the column's stats are in (bools as 0/1, class names as ids); undefined: cannot prune. */
function statsValue(c: ColumnSchema, v: number | string | boolean | null): Bound | undefined {
  if (v === null) return undefined;
  if (c.htype === 'class_label') {
    const id = typeof v === 'string' ? ((c.meta.classNames as string[] | undefined) ?? []).indexOf(v) : -1;
    return id >= 0 ? id : undefined;
  }
  if (typeof v === 'boolean') return c.dtype === 'bool' ? Number(v) : undefined;
  if (typeof v === 'string') return c.dtype === 'string' ? v : undefined;
  return c.dtype === 'string' || Number.isNaN(v) ? undefined : v;
}

/** Whether a chunk with stats `s` may hold a value v with `v op lit` (NaN above every number). */
function mayCompare(s: ChunkStats, op: CompareOp, lit: Bound): boolean {
  const cmp = (a: Bound, b: Bound): number =>
    typeof a === 'string' ? compareStrings(a, b as string) : compareNumbers(a, b as number);
  const hasValues = s.min !== null || s.hasNaN;
  if (!hasValues) return false;
  // Lowest and highest value (NaN counts as the highest number).
  const lo: Bound = s.min ?? NaN;
  const hiExact = s.hasNaN ? NaN : s.max;
  const prefix = typeof s.max === 'string' && s.maxIsPrefix ? s.max : undefined;
  /** Every value is below lit (strictly) — what a prefix max can prove: lit is above every string it starts. */
  const allBelow = (): boolean =>
    prefix !== undefined
      ? compareStrings(lit as string, prefix) > 0 && !(lit as string).startsWith(prefix)
      : cmp(hiExact!, lit) < 0;
  const allAtMost = (): boolean => (prefix !== undefined ? allBelow() : cmp(hiExact!, lit) <= 0);
  switch (op) {
    case '=':
      return cmp(lo, lit) <= 0 && !allBelow();
    case '<':
      return cmp(lo, lit) < 0;
    case '<=':
      return cmp(lo, lit) <= 0;
    case '>':
      return !allAtMost();
    case '>=':
      return !allBelow();
    default:
      return true;
  }
}
