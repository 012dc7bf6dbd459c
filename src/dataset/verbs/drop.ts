import { type ViewPlan, findColumn, viewColumns, withColumns } from './view.js';

/** The view without these columns (NOT_FOUND for one it does not have); nothing is written. */
export function drop(plan: ViewPlan, columns: readonly string[]): ViewPlan {
  for (const c of columns) findColumn(plan, c, 'drop');
  return withColumns(
    plan,
    viewColumns(plan).filter((c) => !columns.includes(c.name)),
  );
}
