/**
 * Execution plan of an aggregation view: aggregations sharing an input (column + filter) share one
 * state group, so count/sum/min/max over one column are computed in one pass; aggregations sharing a
 * window share its bounds.
 */
import { categoryOf } from '../definitions/dtypes.js';
import type { AggFunction, Aggregation, FeatureView, WindowSpec } from '../definitions/types.js';

export interface GroupPlan {
  /** Input column; null counts rows. */
  readonly column: string | null;
  readonly where?: string;
  /** Values are dictionary codes (strings, lists) rather than numbers. */
  readonly coded: boolean;
  readonly sum: boolean;
  /** Welford m2 (stddev). */
  readonly m2: boolean;
  readonly min: boolean;
  readonly max: boolean;
  readonly first: boolean;
  readonly last: boolean;
  /** Largest `n` of the group's last_n aggregations (0: none). */
  readonly lastN: number;
  /** Smallest exact limit of the group's count_distinct aggregations (0: none). */
  readonly distinct: number;
}

export interface AggPlan {
  readonly agg: Aggregation;
  readonly group: number;
  readonly window: number;
}

export interface ViewPlan {
  readonly view: FeatureView;
  readonly groups: readonly GroupPlan[];
  readonly windows: readonly WindowSpec[];
  readonly aggs: readonly AggPlan[];
  readonly tileMs: number;
  /** Largest finite window span the edges may need raw events for (ms). */
  readonly maxWindowMs: number;
  readonly hasLifetime: boolean;
}

const NEEDS: Record<AggFunction, (keyof GroupPlan)[]> = {
  count: [],
  sum: ['sum'],
  mean: ['sum'],
  stddev: ['sum', 'm2'],
  min: ['min'],
  max: ['max'],
  first: ['first'],
  last: ['last'],
  last_n: ['lastN'],
  count_distinct: ['distinct'],
};

export function planView(view: FeatureView): ViewPlan {
  const groupKeys: string[] = [];
  const groups: { -readonly [K in keyof GroupPlan]: GroupPlan[K] }[] = [];
  const windowKeys: string[] = [];
  const windows: WindowSpec[] = [];
  const aggs: AggPlan[] = [];
  for (const agg of view.aggregations) {
    const gk = JSON.stringify([agg.column, agg.where ?? null]);
    let g = groupKeys.indexOf(gk);
    if (g < 0) {
      g = groupKeys.push(gk) - 1;
      const coded =
        agg.inputDtype !== null && !['int', 'float', 'bool', 'timestamp'].includes(categoryOf(agg.inputDtype));
      groups.push({
        column: agg.column,
        where: agg.where,
        coded,
        sum: false,
        m2: false,
        min: false,
        max: false,
        first: false,
        last: false,
        lastN: 0,
        distinct: 0,
      });
    }
    const grp = groups[g];
    for (const need of NEEDS[agg.function]) {
      if (need === 'lastN') grp.lastN = Math.max(grp.lastN, agg.n ?? 1);
      else if (need === 'distinct')
        grp.distinct = grp.distinct ? Math.min(grp.distinct, agg.exactLimit) : agg.exactLimit;
      else (grp as Record<string, unknown>)[need] = true;
    }
    const wk = JSON.stringify([agg.window.kind, agg.window.sizeMs, agg.window.hopMs ?? null]);
    let w = windowKeys.indexOf(wk);
    if (w < 0) {
      w = windowKeys.push(wk) - 1;
      windows.push(agg.window);
    }
    aggs.push({ agg, group: g, window: w });
  }
  let maxWindowMs = 0;
  let hasLifetime = false;
  for (const w of windows) {
    if (w.kind === 'lifetime') hasLifetime = true;
    else maxWindowMs = Math.max(maxWindowMs, w.sizeMs);
  }
  return { view, groups, windows, aggs, tileMs: view.tileMs ?? 3_600_000, maxWindowMs, hasLifetime };
}

/** The window (a, b] an aggregation covers as of time t. */
export function windowBounds(w: WindowSpec, t: number): [number, number] {
  switch (w.kind) {
    case 'lifetime':
      return [-Infinity, t];
    case 'sliding':
      return [t - w.sizeMs, t];
    case 'hopping': {
      const end = Math.floor(t / w.hopMs!) * w.hopMs!;
      return [end - w.sizeMs, end];
    }
    case 'tumbling': {
      const start = (Math.ceil(t / w.sizeMs) - 1) * w.sizeMs;
      return [start, t];
    }
  }
}
