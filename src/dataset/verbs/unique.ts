import { keyOf } from './aggregates.js';
import { countBy, type GroupCount } from './group-by.js';
import { type ViewPlan, columnValues, findColumn } from './view.js';

/** The distinct values of a column in order of first appearance (null included when present). */
export async function unique(plan: ViewPlan, column: string, signal?: AbortSignal): Promise<unknown[]> {
  const col = findColumn(plan, column, 'unique');
  const frame = await plan.rows.resolve(plan.core, signal);
  const seen = new Set<unknown>();
  const out: unknown[] = [];
  for (const v of await columnValues(plan.core, frame, col, signal)) {
    const k = keyOf(v);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(v ?? null);
  }
  return out;
}

/** Rows per value of a column (null included as a value), most frequent first, ties by value. */
export function valueCounts(plan: ViewPlan, column: string, signal?: AbortSignal): Promise<GroupCount[]> {
  findColumn(plan, column, 'valueCounts');
  return countBy(plan, [column], signal);
}
