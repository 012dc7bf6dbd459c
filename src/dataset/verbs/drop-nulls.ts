import { type ViewPlan, columnValues, findColumn, viewColumns, selectRows } from './view.js';

/** The rows with no null in the given columns (default: any column of the view). */
export function dropNulls(plan: ViewPlan, columns?: readonly string[]): ViewPlan {
  const cols = columns ? columns.map((c) => findColumn(plan, c, 'dropNulls')) : viewColumns(plan);
  return selectRows(plan, async (frame, signal) => {
    const values: unknown[][] = [];
    for (const c of cols) values.push(await columnValues(plan.core, frame, c, signal));
    const out: number[] = [];
    for (let j = 0; j < frame.rows.length; j++)
      if (values.every((v) => v[j] !== null && v[j] !== undefined)) out.push(j);
    return out;
  });
}
