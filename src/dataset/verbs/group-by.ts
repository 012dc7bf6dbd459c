import { StrataError } from '../../errors.js';
import { type Aggregate, keyOf, reduce } from './aggregates.js';
import { type Frame, type Row, type ViewPlan, columnValues, findColumn, selectRows } from './view.js';

export interface GroupCount {
  /** The group's value (an array of values when grouping by several columns). */
  readonly key: unknown;
  readonly count: number;
}

/** The rows of each group: positions of the frame, groups in order of first appearance. */
async function groups(
  plan: ViewPlan,
  frame: Frame,
  columns: readonly string[],
  signal?: AbortSignal,
): Promise<{ keys: unknown[][]; positions: number[][] }> {
  const values: unknown[][] = [];
  for (const c of columns) values.push(await columnValues(plan.core, frame, findColumn(plan, c, 'groupBy'), signal));
  const index = new Map<string, number>();
  const keys: unknown[][] = [];
  const positions: number[][] = [];
  for (let j = 0; j < frame.rows.length; j++) {
    const parts = values.map((v) => v[j] ?? null);
    const id = columns.length === 1 ? keyOf(parts[0]) : JSON.stringify(parts.map(keyOf));
    const mapKey = typeof id === 'string' ? `s${id}` : id;
    let g = index.get(mapKey as string);
    if (g === undefined) {
      index.set(mapKey as string, (g = keys.length));
      keys.push(parts);
      positions.push([]);
    }
    positions[g].push(j);
  }
  return { keys, positions };
}

/**
 * One record per group (in order of first appearance): the group's values of `columns` and each
 * aggregate of `spec` over its rows. Null group values form one group, as in SQL.
 */
export async function aggregate(
  plan: ViewPlan,
  columns: readonly string[],
  spec: Readonly<Record<string, Aggregate>>,
  signal?: AbortSignal,
): Promise<Row[]> {
  for (const [name, agg] of Object.entries(spec)) {
    if (!agg || typeof agg !== 'object' || typeof agg.op !== 'string') {
      throw new StrataError('INVALID_ARGUMENT', `agg: ${name} is not an aggregate`, {
        field: name,
        hint: "build aggregates with count(), sum('col'), mean('col'), min, max, std, countDistinct, first, last",
      });
    }
    if (agg.column !== undefined) findColumn(plan, agg.column, 'agg');
  }
  const frame = await plan.rows.resolve(plan.core, signal);
  const { keys, positions } = await groups(plan, frame, columns, signal);
  const inputs = new Map<string, unknown[]>();
  for (const agg of Object.values(spec)) {
    if (agg.column !== undefined && !inputs.has(agg.column))
      inputs.set(agg.column, await columnValues(plan.core, frame, findColumn(plan, agg.column), signal));
  }
  return keys.map((key, g) => {
    const out: Row = Object.fromEntries(columns.map((c, k) => [c, key[k]]));
    for (const [name, agg] of Object.entries(spec)) {
      const all = agg.column === undefined ? positions[g] : positions[g].map((j) => inputs.get(agg.column!)![j]);
      out[name] = reduce(agg, all);
    }
    return out;
  });
}

/** Rows per group, most frequent first (ties by key). */
export async function countBy(plan: ViewPlan, columns: readonly string[], signal?: AbortSignal): Promise<GroupCount[]> {
  const frame = await plan.rows.resolve(plan.core, signal);
  const { keys, positions } = await groups(plan, frame, columns, signal);
  return keys
    .map((k, g) => ({ key: columns.length === 1 ? k[0] : k, count: positions[g].length }))
    .sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
}

/** A view of each group's rows, by group value (an array of values for several columns). */
export async function groupViews(
  plan: ViewPlan,
  columns: readonly string[],
  signal?: AbortSignal,
): Promise<Map<unknown, ViewPlan>> {
  const frame = await plan.rows.resolve(plan.core, signal);
  const { keys, positions } = await groups(plan, frame, columns, signal);
  return new Map(keys.map((k, g) => [columns.length === 1 ? k[0] : k, selectRows(plan, () => positions[g], true)]));
}

/** The record type of `agg(spec)` results (without the group columns). */
export type AggResult<A> = { -readonly [P in keyof A]: A[P] extends Aggregate<infer T> ? T : never };

/**
 * The groups of a view by one or more columns (`ds.groupBy(...)`); `V` is the view type `views()`
 * returns, `G` the group columns' record type.
 */
export interface GroupBy<V, G extends object> {
  /**
   * One record per group, in order of first appearance: the group's values and each aggregate
   * (`{ n: count(), mean_w: mean('width') }`), nulls ignored as in SQL (SQL `GROUP BY`).
   */
  agg<const A extends Readonly<Record<string, Aggregate>>>(
    spec: A,
    options?: { signal?: AbortSignal },
  ): Promise<Array<G & AggResult<A>>>;
  /** Rows per group, most frequent first; `key` is the value (an array of values for several columns). */
  count(options?: { signal?: AbortSignal }): Promise<GroupCount[]>;
  /** A view of each group's rows, by `key` as in `count()`. */
  views(options?: { signal?: AbortSignal }): Promise<Map<unknown, V>>;
}

/** The groups of a view (see `GroupBy`). */
export class Groups<V, G extends object> implements GroupBy<V, G> {
  constructor(
    private readonly plan: ViewPlan,
    private readonly columns: readonly string[],
    private readonly wrap: (plan: ViewPlan) => V,
  ) {
    for (const c of columns) findColumn(plan, c, 'groupBy');
  }

  /**
   * One record per group, in order of first appearance: the group's values and each aggregate
   * (`{ n: count(), mean_w: mean('width') }`), nulls ignored as in SQL (SQL `GROUP BY`).
   */
  agg<const A extends Readonly<Record<string, Aggregate>>>(
    spec: A,
    options: { signal?: AbortSignal } = {},
  ): Promise<Array<G & AggResult<A>>> {
    return aggregate(this.plan, this.columns, spec, options.signal) as Promise<Array<G & AggResult<A>>>;
  }

  /** Rows per group, most frequent first; `key` is the value (an array of values for several columns). */
  count(options: { signal?: AbortSignal } = {}): Promise<GroupCount[]> {
    return countBy(this.plan, this.columns, options.signal);
  }

  /** A view of each group's rows, by `key` as in `count()`. */
  async views(options: { signal?: AbortSignal } = {}): Promise<Map<unknown, V>> {
    const m = await groupViews(this.plan, this.columns, options.signal);
    return new Map([...m].map(([k, p]) => [k, this.wrap(p)]));
  }
}
