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
import type { CodedEvents, IndexedEvents } from '../engine/series.js';
import type { FeatureService, FeatureView, LongOptions, Source } from '../definitions/types.js';

export interface HistoricalOptions extends LongOptions {
  /** Feature refs `view:feature` (or `view` for all of its features). */
  readonly features?: readonly string[];
  /** Or the name of a feature service. */
  readonly featureService?: string;
  /** Name output columns `view__feature` instead of `feature`. Default false. */
  readonly fullFeatureNames?: boolean;
  /** Entity rows' time column. Default `event_timestamp`. */
  readonly timestampColumn?: string;
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
  const { pairStrategy, tileStrategy, parallelMinEvents } = access.engine;
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
    if (view.kind === 'plain') {
      const { table, coded } = await access.events(view, options);
      const rowCodes = coded.keys.lookup(rowKeys(rows, view, { table }));
      throwIfAborted(options.signal, 'getHistoricalFeatures');
      const matched = await latestRowsByProbe(coded, rowCodes, rowTs, view.ttlMs, parallelMinEvents);
      for (const name of names) {
        const i = view.features.findIndex((f) => f.name === name);
        columns[out(name)] = gatherColumn(table, view.columns[i], view.features[i].dtype, matched);
      }
    } else {
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
      for (const col of cols) columns[out(col.agg.name)] = aggVector(col, dicts[col.group]);
    }
    options.onProgress?.({ phase: 'views', done: ++done, total: req.byView.size, unit: 'views' });
  }
  return new A.Table(columns);
}
