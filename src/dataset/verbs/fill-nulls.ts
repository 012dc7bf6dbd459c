import { type ViewPlan, findColumn, viewColumns, withColumns } from './view.js';

/** The view with nulls of the given columns read as the given values (`{ score: 0 }`); nothing is written. */
export function fillNulls(plan: ViewPlan, values: Readonly<Record<string, unknown>>): ViewPlan {
  for (const c of Object.keys(values)) findColumn(plan, c, 'fillNulls');
  const prior = viewColumns(plan);
  return withColumns(
    plan,
    prior.map((c) => {
      if (!Object.hasOwn(values, c.name)) return c;
      const fill = values[c.name];
      return { name: c.name, kind: 'computed', prior: [c], fn: (row) => row[c.name] ?? fill } as const;
    }),
  );
}
