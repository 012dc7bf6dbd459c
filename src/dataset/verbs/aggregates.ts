import { StrataError } from '../../errors.js';

export const AGGREGATE_OPS = ['count', 'sum', 'mean', 'min', 'max', 'std', 'countDistinct', 'first', 'last'] as const;
export type AggregateOp = (typeof AGGREGATE_OPS)[number];

/** One aggregate of `groupBy().agg()`; `T` is the type of its result. Nulls are ignored, as in SQL. */
export interface Aggregate<T = unknown> {
  readonly op: AggregateOp;
  /** The column aggregated; undefined for `count()` (rows). */
  readonly column?: string;
  /** @internal type carrier only */
  readonly __result?: T;
}

/** Rows of the group (`count()`, SQL `count(*)`), or its non-null values of a column. */
export const count = (column?: string): Aggregate<number> => ({ op: 'count', column });
/** Sum of the non-null values; null when there are none. */
export const sum = (column: string): Aggregate<number | null> => ({ op: 'sum', column });
export const mean = (column: string): Aggregate<number | null> => ({ op: 'mean', column });
export const min = <T = number>(column: string): Aggregate<NoInfer<T> | null> => ({ op: 'min', column });
export const max = <T = number>(column: string): Aggregate<NoInfer<T> | null> => ({ op: 'max', column });
/** Sample standard deviation (SQL `stddev_samp`); null for fewer than two values. */
export const std = (column: string): Aggregate<number | null> => ({ op: 'std', column });
export const countDistinct = (column: string): Aggregate<number> => ({ op: 'countDistinct', column });
/** The first non-null value in view order. */
export const first = <T = unknown>(column: string): Aggregate<T | null> => ({ op: 'first', column });
/** The last non-null value in view order. */
export const last = <T = unknown>(column: string): Aggregate<T | null> => ({ op: 'last', column });

/** A key that is equal for equal values (arrays and typed arrays by content). */
export function keyOf(v: unknown): unknown {
  if (v === undefined) return null;
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return JSON.stringify(Array.from(v as ArrayLike<unknown>, String));
  return v;
}

function num(v: unknown, column: string | undefined, op: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return Number(v);
  throw new StrataError('INVALID_ARGUMENT', `${op}(${column}): value ${String(v)} is not a number`, {
    column,
    hint: `${op} takes numeric columns; use count, countDistinct, min, max, first or last for others`,
  });
}

/** The aggregate of `values` (one group's values of `agg.column`; rows only for `count()`). */
export function reduce(agg: Aggregate, values: readonly unknown[]): unknown {
  if (agg.op === 'count' && agg.column === undefined) return values.length;
  const present = values.filter((v) => v !== null && v !== undefined);
  switch (agg.op) {
    case 'count':
      return present.length;
    case 'countDistinct':
      return new Set(present.map(keyOf)).size;
    case 'first':
      return present.length ? present[0] : null;
    case 'last':
      return present.length ? present[present.length - 1] : null;
    case 'min':
    case 'max': {
      if (!present.length) return null;
      let best = present[0];
      for (const v of present)
        if (agg.op === 'min' ? (v as number) < (best as number) : (v as number) > (best as number)) best = v;
      return best;
    }
    case 'sum':
    case 'mean':
    case 'std': {
      if (!present.length) return null;
      const xs = present.map((v) => num(v, agg.column, agg.op));
      const total = xs.reduce((a, b) => a + b, 0);
      if (agg.op === 'sum') return total;
      const m = total / xs.length;
      if (agg.op === 'mean') return m;
      if (xs.length < 2) return null;
      return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
    }
  }
}
