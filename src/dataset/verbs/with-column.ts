import { StrataError } from '../../errors.js';
import { validateColumnName } from '../schema.js';
import { type Row, type ViewPlan, viewColumns, withColumns } from './view.js';

/**
 * The view with column `name` computed on read by `fn` from the row's other columns (replacing a
 * column of that name in place). Nothing is stored; rows, values, filters, sorts and exports see it.
 */
export function withColumn(plan: ViewPlan, name: string, fn: (row: Row) => unknown): ViewPlan {
  validateColumnName(name);
  if (typeof fn !== 'function') {
    throw new StrataError('INVALID_ARGUMENT', `withColumn: ${name} needs a function of the row`, {
      column: name,
      hint: `write withColumn('${name}', (r) => ...)`,
    });
  }
  const prior = viewColumns(plan);
  const col = { name, kind: 'computed', prior, fn } as const;
  const at = prior.findIndex((c) => c.name === name);
  return withColumns(plan, at < 0 ? [...prior, col] : prior.map((c, i) => (i === at ? col : c)));
}
