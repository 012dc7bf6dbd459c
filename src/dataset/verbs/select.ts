import { type ViewPlan, findColumn, withColumns } from './view.js';

/** The view with only these columns, in this order (NOT_FOUND for one it does not have). */
export function select(plan: ViewPlan, columns: readonly string[]): ViewPlan {
  return withColumns(
    plan,
    columns.map((c) => findColumn(plan, c, 'select')),
  );
}
