/**
 * Read plans of `getOnlineFeatures` (read.ts): per distinct feature list, the views to read, the
 * feature names per view and the output columns, resolved once and cached per repo index, so a
 * request only builds its cache key (once: get.ts passes it on).
 */
import { StrataError } from '../errors.js';
import type { GetOnlineFeaturesOptions } from './read.js';
import { indexRepo, resolveFeatures } from './repo-index.js';
import type { FeatureColumn } from './result.js';
import type { OnlineReadOptions } from './store.js';
import type { OnlineRepo, OnlineView } from './types.js';

/** Per-request work that depends only on the refs asked for: resolved once, then cached. */
export interface ViewPlan {
  readonly view: OnlineView;
  /** Feature names to read (same array every time, so stores can cache per identity). */
  readonly names: readonly string[];
  /** Index into the output columns of each name. */
  readonly columnIndex: readonly number[];
  /** The store's read options, without and with write times (same objects every time). */
  readonly readOptions: OnlineReadOptions;
  readonly readOptionsWithWriteTime: OnlineReadOptions;
}
/** A resolved read: built once per distinct feature list (see readPlanFor), reused by every request. */
export interface ReadPlan {
  readonly columns: readonly Omit<FeatureColumn, 'values' | 'statuses' | 'eventTimestampsMs' | 'writeTimestampsMs'>[];
  readonly views: readonly ViewPlan[];
}

const PLAN_CACHE_MAX = 256;
const plans = new WeakMap<object, Map<string, ReadPlan>>();

/** The cache key of a request's feature list (refs or service, and the naming): built once per request. */
export function planKey(options: GetOnlineFeaturesOptions): string {
  return (
    (options.fullFeatureNames ? 'F' : 'S') +
    (options.features !== undefined
      ? 'f' + options.features.join('\u0001')
      : options.featureService !== undefined
        ? 's' + options.featureService
        : '')
  );
}

/** The read plan of `options`' features (cached per repo index and `key`, which is `planKey(options)`). */
export function readPlanFor(repo: OnlineRepo, options: GetOnlineFeaturesOptions, key = planKey(options)): ReadPlan {
  const index = indexRepo(repo);
  const full = options.fullFeatureNames ?? false;
  let perIndex = plans.get(index);
  const hit = perIndex?.get(key);
  if (hit) return hit;
  const resolved = resolveFeatures(index, options);
  const columns: ReadPlan['columns'][number][] = [];
  const seen = new Map<string, string>();
  const byView = new Map<string, { view: OnlineView; names: string[]; columnIndex: number[] }>();
  for (const r of resolved) {
    const name = full ? `${r.view.name}__${r.feature.name}` : r.feature.name;
    const prior = seen.get(name);
    if (prior !== undefined) {
      throw new StrataError('INVALID_ARGUMENT', `features ${prior} and ${r.ref} both come out as column ${name}`, {
        field: 'features',
        key: r.ref,
        hint: prior === r.ref ? 'ask for each feature once' : 'set fullFeatureNames (full_feature_names) to true',
      });
    }
    seen.set(name, r.ref);
    let v = byView.get(r.view.name);
    if (!v) byView.set(r.view.name, (v = { view: r.view, names: [], columnIndex: [] }));
    v.names.push(r.feature.name);
    v.columnIndex.push(columns.length);
    columns.push({ name, ref: r.ref, view: r.view.name, feature: r.feature.name, dtype: r.feature.dtype });
  }
  const views = [...byView.values()].map((v): ViewPlan => ({
    ...v,
    readOptions: { features: v.names },
    readOptionsWithWriteTime: { features: v.names, withWriteTime: true },
  }));
  const plan: ReadPlan = { columns, views };
  if (!perIndex) plans.set(index, (perIndex = new Map<string, ReadPlan>()));
  if (perIndex.size >= PLAN_CACHE_MAX) perIndex.clear();
  perIndex.set(key, plan);
  return plan;
}
