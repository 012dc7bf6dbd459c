/**
 * Training sets: the entity rows with each requested feature as of the row's timestamp.
 *
 * Point-in-time rules (Feast's):
 *  - plain views: join the source row whose keys match and whose event time is the latest with
 *    `event_ts <= row_ts` (and `event_ts >= row_ts - ttl` when the view has a ttl); equal event
 *    times go to the larger created timestamp, then to the later source row; no match → null;
 *  - aggregation views: the window ending at `row_ts`, inclusive — nothing after `row_ts` leaks in;
 *    an empty window gives count 0 and null for the other functions.
 */
import * as A from 'apache-arrow';
import { StrataError, throwIfAborted } from '../../errors.js';
import { readTimestamps } from '../engine/columns.js';
import { categoryOf, dtypeOfArrow } from '../definitions/dtypes.js';
import type { Engine } from '../engine/engine.js';
import { aggregateRows, aggVector, gatherColumn } from './pit.js';
import { latestRowsByProbe } from '../engine/probe.js';
import { aggregateByPairs, type PairInputs } from './pairs.js';
import type { ViewPlan } from '../engine/plan.js';
import { takeTable } from '../engine/take.js';
import { groupByPartition } from '../sources/spill.js';
import { scatterRows, type MemoryOptions } from './partitioned.js';
import type { CodedEvents, IndexedEvents } from '../engine/series.js';
import type { FeatureService, FeatureView, LongOptions, Source } from '../definitions/types.js';
import type { Shard } from '../../shard.js';

export interface HistoricalOptions extends LongOptions, MemoryOptions {
  /** Feature refs `view:feature` (or `view` for all of its features). */
  readonly features?: readonly string[];
  /** Or the name of a feature service. */
  readonly featureService?: string;
  /** Name output columns `view__feature` instead of `feature`. Default false. */
  readonly fullFeatureNames?: boolean;
  /** Entity rows' time column. Default `event_timestamp`. */
  readonly timestampColumn?: string;
  /**
   * Record the training set's per-feature statistics as a `training` run of each view, under this
   * id (repos with a directory; see `repo.statistics`), e.g. as the reference for `repo.drift`.
   * Default: none recorded.
   */
  readonly statisticsRunId?: string;
  /**
   * Only the entity rows of this shard, by the stable hash of the join keys of the first requested
   * view's entities (the hash sharded backfills and materialization use): shards 0..count-1 together
   * give every row once, each in its source order. Default: every row.
   */
  readonly shard?: Shard;
}

export interface ResolvedRequest {
  /** View name → requested feature names, in request order. */
  readonly byView: Map<string, string[]>;
  /** `view:feature` → output column name. */
  readonly outNames: Map<string, string>;
}

/** Resolves refs; INVALID_ARGUMENT names the unknown view or feature. */
export function resolveRequest(
  views: ReadonlyMap<string, FeatureView>,
  services: ReadonlyMap<string, FeatureService>,
  options: HistoricalOptions,
): ResolvedRequest {
  let refs: readonly string[];
  if (options.featureService !== undefined) {
    const svc = services.get(options.featureService);
    if (!svc) {
      throw new StrataError('INVALID_ARGUMENT', `unknown feature service ${options.featureService}`, {
        field: 'featureService',
        hint: `services: ${[...services.keys()].join(', ') || '(none)'}`,
      });
    }
    refs = svc.features;
  } else refs = options.features ?? [];
  if (refs.length === 0)
    throw new StrataError('INVALID_ARGUMENT', 'no features requested', {
      field: 'features',
      hint: 'pass features: ["view:feature"] or featureService',
    });
  const byView = new Map<string, string[]>();
  const outNames = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const ref of refs) {
    const [viewName, feat] = ref.split(':', 2);
    const view = views.get(viewName);
    if (!view)
      throw new StrataError('INVALID_ARGUMENT', `unknown feature view ${viewName} in ${ref}`, {
        field: 'features',
        key: ref,
        hint: `views: ${[...views.keys()].join(', ')}`,
      });
    const names = feat === undefined ? view.features.map((f) => f.name) : [feat];
    for (const name of names) {
      if (!view.features.some((f) => f.name === name)) {
        throw new StrataError('INVALID_ARGUMENT', `view ${viewName} has no feature ${name}`, {
          field: 'features',
          key: ref,
          hint: `features: ${view.features.map((f) => f.name).join(', ')}`,
        });
      }
      const full = `${viewName}:${name}`;
      if (outNames.has(full)) continue;
      const out = options.fullFeatureNames ? `${viewName}__${name}` : name;
      if (taken.has(out)) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `features ${taken.get(out)} and ${full} would both be column ${out}`,
          { field: 'features', hint: 'pass fullFeatureNames: true' },
        );
      }
      taken.set(out, full);
      outNames.set(full, out);
      const list = byView.get(viewName) ?? [];
      list.push(name);
      byView.set(viewName, list);
    }
  }
  return { byView, outNames };
}

export interface ViewAccess {
  /** The repo's engine tuning (read once per call). */
  readonly engine: Engine;
  view(name: string): FeatureView;
  source(name: string): Source;
  plan(view: FeatureView): ViewPlan | null;
  index(view: FeatureView, options: LongOptions): Promise<IndexedEvents>;
  /** Coded events without the sort (plain views). */
  events(view: FeatureView, options: LongOptions): Promise<{ table: A.Table; coded: CodedEvents }>;
  /** Coded events with group inputs, or null when the view's sorted index is already built. */
  pairInputs(view: FeatureView, options: LongOptions): Promise<(PairInputs & { table: A.Table }) | null>;
  /** The view's source split into partitions when it is larger than the memory limit, else null. */
  partitioned?(view: FeatureView, options: HistoricalOptions): Promise<PartitionedView | null>;
}

function rowKeys(rows: A.Table, view: FeatureView, idx: { table: A.Table }): A.Vector[] {
  return view.entities.map((k) => {
    const v = rows.getChild(k) as A.Vector<A.DataType> | null;
    if (!v)
      throw new StrataError('INVALID_ARGUMENT', `entity rows lack join key ${k} (view ${view.name})`, {
        column: k,
        hint: `add a ${k} column to the entity rows`,
      });
    const src = idx.table.getChild(k) as A.Vector<A.DataType> | null;
    if (src && rows.numRows > 0) {
      const a = categoryOf(dtypeOfArrow(v.type));
      const b = categoryOf(dtypeOfArrow(src.type));
      const num = (c: string) => c === 'int' || c === 'float';
      if (a !== b && !(num(a) && num(b)) && v.nullCount < v.length) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `join key ${k}: entity rows have ${dtypeOfArrow(v.type)}, source of ${view.name} has ${dtypeOfArrow(src.type)}`,
          {
            column: k,
            hint: 'cast the entity rows column to the source key type',
          },
        );
      }
    }
    return v;
  });
}

/** Computes the training set table. */
export async function historicalFeatures(
  access: ViewAccess,
  rows: A.Table,
  req: ResolvedRequest,
  options: HistoricalOptions,
): Promise<A.Table> {
  const tsCol = options.timestampColumn ?? 'event_timestamp';
  const tsVec = rows.getChild(tsCol);
  if (!tsVec) {
    throw new StrataError('INVALID_ARGUMENT', `entity rows lack the timestamp column ${tsCol}`, {
      column: tsCol,
      hint: 'add event_timestamp, or pass timestampColumn',
    });
  }
  const rowTs = readTimestamps(tsVec);
  const columns: Record<string, A.Vector> = {};
  for (const f of rows.schema.fields) columns[f.name] = rows.getChild(f.name)!;
  for (const [ref, name] of req.outNames) {
    if (name in columns) {
      throw new StrataError('INVALID_ARGUMENT', `feature ${ref} would overwrite the entity rows' column ${name}`, {
        column: name,
        hint: 'rename the entity rows column, or pass fullFeatureNames: true',
      });
    }
  }
  let done = 0;
  for (const [viewName, names] of req.byView) {
    throwIfAborted(options.signal, 'getHistoricalFeatures');
    const view = access.view(viewName);
    const out = (name: string) => req.outNames.get(`${viewName}:${name}`)!;
    const parted = await access.partitioned?.(view, options);
    let cols: Map<string, A.Vector>;
    if (parted) {
      try {
        cols = await partitionedColumns(parted, view, names, rows, rowTs, options);
      } finally {
        await parted.close();
      }
    } else cols = await viewColumns(access, view, names, rows, rowTs, options);
    for (const [name, vec] of cols) columns[out(name)] = vec;
    options.onProgress?.({ phase: 'views', done: ++done, total: req.byView.size, unit: 'views' });
  }
  return new A.Table(columns);
}

/** The requested features of one view for `rows` (feature name → column). */
async function viewColumns(
  access: ViewAccess,
  view: FeatureView,
  names: readonly string[],
  rows: A.Table,
  rowTs: Float64Array,
  options: HistoricalOptions,
): Promise<Map<string, A.Vector>> {
  const { pairStrategy, tileStrategy, parallelMinEvents } = access.engine;
  const result = new Map<string, A.Vector>();
  if (view.kind === 'plain') {
    const { table, coded } = await access.events(view, options);
    const rowCodes = coded.keys.lookup(rowKeys(rows, view, { table }));
    throwIfAborted(options.signal, 'getHistoricalFeatures');
    const matched = await latestRowsByProbe(coded, rowCodes, rowTs, view.ttlMs, parallelMinEvents);
    for (const name of names) {
      const i = view.features.findIndex((f) => f.name === name);
      result.set(name, gatherColumn(table, view.columns[i], view.features[i].dtype, matched));
    }
    return result;
  }
  const plan = access.plan(view)!;
  const want = names.map((name) => plan.aggs.findIndex((a) => a.agg.name === name));
  // short windows: pair events with rows (no full sort); else the sorted index
  const inputs = pairStrategy === 'index' ? null : await access.pairInputs(view, options);
  let cols = null;
  let dicts: readonly (unknown[] | null)[] = [];
  if (inputs) {
    const rowCodes = inputs.coded.keys.lookup(rowKeys(rows, view, inputs));
    cols = await aggregateByPairs(plan, inputs, rowCodes, rowTs, want, parallelMinEvents, options);
    dicts = inputs.dicts;
  }
  if (!cols) {
    const idx = await access.index(view, options);
    const rowCodes = idx.keys.lookup(rowKeys(rows, view, idx));
    cols = await aggregateRows(plan, idx, rowCodes, rowTs, want, tileStrategy, options);
    dicts = idx.dicts;
  }
  for (const col of cols) result.set(col.agg.name, aggVector(col, dicts[col.group]));
  return result;
}

/** A view's source split into entity partitions (see partitioned.ts). */
export interface PartitionedView {
  readonly count: number;
  /** The source's columns (no rows): the join keys' types. */
  readonly table: A.Table;
  /** Partition of each row of the join key vectors. */
  partitionOf(keys: readonly A.Vector[]): Int32Array;
  /** Access to partition `p`'s events alone. */
  access(p: number): Promise<ViewAccess>;
  /** Removes the spill files. */
  close(): Promise<void>;
}

/** viewColumns partition by partition: each entity row goes with its entity's partition. */
async function partitionedColumns(
  parted: PartitionedView,
  view: FeatureView,
  names: readonly string[],
  rows: A.Table,
  rowTs: Float64Array,
  options: HistoricalOptions,
): Promise<Map<string, A.Vector>> {
  const keyVecs = rowKeys(rows, view, parted);
  const { order, start } = groupByPartition(parted.partitionOf(keyVecs), parted.count);
  const keyTable = new A.Table(Object.fromEntries(view.entities.map((k, j) => [k, keyVecs[j]])));
  const parts: A.Table[] = [];
  const rowsOf: Int32Array[] = [];
  for (let p = 0; p < parted.count; p++) {
    const idx = order.subarray(start[p], start[p + 1]);
    if (idx.length === 0 && !(p === parted.count - 1 && parts.length === 0)) continue;
    throwIfAborted(options.signal, 'getHistoricalFeatures');
    const sub = await parted.access(p);
    const ts = new Float64Array(idx.length);
    for (let k = 0; k < idx.length; k++) ts[k] = rowTs[idx[k]];
    const cols = await viewColumns(sub, view, names, takeTable(keyTable, idx), ts, options);
    parts.push(new A.Table(Object.fromEntries(cols)));
    rowsOf.push(idx);
    options.onProgress?.({ phase: `partitions ${view.name}`, done: p + 1, total: parted.count, unit: 'partitions' });
  }
  const merged = scatterRows(parts, rowsOf, rows.numRows);
  return new Map(names.map((name) => [name, merged.getChild(name)!]));
}
