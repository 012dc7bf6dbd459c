import { StrataError } from '../../errors.js';
import { type ViewPlan, columnValues, findColumn, selectRows } from './view.js';

/** One sort key: a column name (ascending) or `{ column, descending }`. */
export type SortKey<C extends string = string> = C | { readonly column: C; readonly descending?: boolean };

export interface SortOptions {
  /** Default direction of keys given as bare names. Default false. */
  readonly descending?: boolean;
}

/** Orders of values of one column: numbers, bigints, strings, booleans (false first); null last either way. */
function compare(x: unknown, y: unknown): number {
  if (x === y) return 0;
  if (x === null || x === undefined) return 2;
  if (y === null || y === undefined) return -2;
  return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0;
}

/**
 * A stable sort of the view by one or more columns (the first key first, ties broken by the next
 * ones, then by position); nulls sort last whatever the direction, as in SQL's default.
 */
export function sortBy(plan: ViewPlan, keys: SortKey | readonly SortKey[], options: SortOptions = {}): ViewPlan {
  const list = (Array.isArray(keys) ? keys : [keys]) as readonly SortKey[];
  if (list.length === 0) {
    throw new StrataError('INVALID_ARGUMENT', 'sortBy: no sort key given', {
      hint: "pass a column name or a list, e.g. sortBy(['label', { column: 'score', descending: true }])",
    });
  }
  const parsed = list.map((k) => {
    const column = typeof k === 'string' ? k : k.column;
    const descending = typeof k === 'string' ? (options.descending ?? false) : (k.descending ?? false);
    return { col: findColumn(plan, column, 'sortBy'), dir: descending ? -1 : 1 };
  });
  return selectRows(plan, async (frame, signal) => {
    const values: unknown[][] = [];
    for (const k of parsed) values.push(await columnValues(plan.core, frame, k.col, signal));
    const order = Array.from(frame.rows.keys());
    order.sort((a, b) => {
      for (let k = 0; k < parsed.length; k++) {
        const c = compare(values[k][a], values[k][b]);
        if (c !== 0) return Math.abs(c) === 2 ? c : c * parsed[k].dir;
      }
      return a - b;
    });
    return order;
  });
}
