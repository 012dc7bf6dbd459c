/**
 * `getOnlineFeatures`: resolve refs, read each view once for all entity rows, and report per cell
 * value, status and event time. TTL is enforced here, on read, with the view's ttl: a value older than
 * `now - ttl` is `OUTSIDE_MAX_AGE` (its value is withheld as null), never `PRESENT`.
 */
import { StrataError } from '../errors.js';
import { keyForDtype } from './keys.js';
import { indexRepo, resolveFeatures } from './repo-index.js';
import type { FeatureLogger } from './feature-log.js';
import { OnlineFeatures, type FeatureColumn, type FeatureStatus } from './result.js';
import type { OnlineRecord, OnlineStore } from './store.js';
import type { OnlineRepo, OnlineView } from './types.js';

export interface GetOnlineFeaturesOptions {
  /** Feature refs `view:feature`. Either this or `featureService`. */
  readonly features?: readonly string[];
  readonly featureService?: string;
  /** Join key → one value per entity row, e.g. `{ user_id: [1, 2, 3] }`. */
  readonly entities: Readonly<Record<string, readonly unknown[]>>;
  /** Name columns `view__feature` instead of `feature`. Default false. */
  readonly fullFeatureNames?: boolean;
  /** Reference time for TTL checks, epoch ms. Default `Date.now()`. */
  readonly nowMs?: number;
  /**
   * Also report when the store wrote each row: every column then carries `writeTimestampsMs`
   * (write time − event time is the row's freshness). Default false.
   */
  readonly withWriteTime?: boolean;
  /** Log a sample of answers here (see feature-log.ts); the request time logged is `nowMs`. */
  readonly logger?: FeatureLogger;
  /** Request id written to the log. Default: a random UUID. */
  readonly requestId?: string;
  /**
   * Request data of on-demand views: request field → one value per entity row, checked against the
   * views' `requestSchema` (INVALID_ARGUMENT names the field). Fields may also be passed in
   * `entities`, as Feast does.
   */
  readonly requestData?: Readonly<Record<string, readonly unknown[]>>;
}

/** Per-request work that depends only on the refs asked for: resolved once, then cached. */
interface ViewPlan {
  readonly view: OnlineView;
  /** Feature names to read (same array every time, so stores can cache per identity). */
  readonly names: readonly string[];
  /** Index into the output columns of each name. */
  readonly columnIndex: readonly number[];
}
interface Plan {
  readonly columns: readonly Omit<FeatureColumn, 'values' | 'statuses' | 'eventTimestampsMs' | 'writeTimestampsMs'>[];
  readonly views: readonly ViewPlan[];
}

const PLAN_CACHE_MAX = 256;
const plans = new WeakMap<object, Map<string, Plan>>();

function planFor(repo: OnlineRepo, options: GetOnlineFeaturesOptions): Plan {
  const index = indexRepo(repo);
  const full = options.fullFeatureNames ?? false;
  const key =
    (full ? 'F' : 'S') +
    (options.features !== undefined
      ? 'f' + options.features.join('\u0001')
      : options.featureService !== undefined
        ? 's' + options.featureService
        : '');
  let perIndex = plans.get(index);
  const hit = perIndex?.get(key);
  if (hit) return hit;
  const resolved = resolveFeatures(index, options);
  const columns: Plan['columns'][number][] = [];
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
  const plan: Plan = { columns, views: [...byView.values()] };
  if (!perIndex) plans.set(index, (perIndex = new Map<string, Plan>()));
  if (perIndex.size >= PLAN_CACHE_MAX) perIndex.clear();
  perIndex.set(key, plan);
  return plan;
}

/** `getOnlineFeatures` without on-demand views (get.ts adds them). */
export async function readOnlineFeatures(
  repo: OnlineRepo,
  store: OnlineStore,
  options: GetOnlineFeaturesOptions,
): Promise<OnlineFeatures> {
  const plan = planFor(repo, options);
  const rowCount = countRows(options.entities);
  const now = options.nowMs ?? Date.now();
  // Columns of one view share their event times (one row per entity): one array per view.
  const times = plan.views.map(() => new Float64Array(rowCount));
  const withWriteTime = options.withWriteTime === true;
  const writeTimes = withWriteTime ? plan.views.map(() => new Float64Array(rowCount)) : undefined;
  const columns = new Array<FeatureColumn>(plan.columns.length);
  plan.views.forEach((vp, k) => {
    for (const ci of vp.columnIndex) {
      const c = plan.columns[ci];
      const col: FeatureColumn = {
        name: c.name,
        ref: c.ref,
        view: c.view,
        feature: c.feature,
        dtype: c.dtype,
        values: new Array<unknown>(rowCount),
        statuses: new Array<FeatureStatus>(rowCount),
        eventTimestampsMs: times[k],
      };
      columns[ci] = writeTimes ? { ...col, writeTimestampsMs: writeTimes[k] } : col;
    }
  });
  const fill = (vp: ViewPlan, k: number, records: readonly (OnlineRecord | null)[]): void => {
    const ttl = vp.view.ttlMs && vp.view.ttlMs > 0 ? vp.view.ttlMs : 0;
    const names = vp.names;
    const ts = times[k];
    const wts = writeTimes?.[k];
    for (let i = 0; i < rowCount; i++) {
      const rec = records[i];
      ts[i] = rec ? rec.eventTimestampMs : 0;
      if (wts) wts[i] = rec ? (rec.writtenAtMs ?? Number.NaN) : 0;
      const stale = rec !== null && ttl > 0 && rec.eventTimestampMs < now - ttl;
      for (let j = 0; j < names.length; j++) {
        const col = columns[vp.columnIndex[j]];
        let status: FeatureStatus;
        let value: unknown = null;
        if (rec === null) status = 'NOT_FOUND';
        else if (stale) status = 'OUTSIDE_MAX_AGE';
        else {
          value = rec.values[names[j]];
          if (value === undefined || value === null) {
            value = null;
            status = 'NULL_VALUE';
          } else status = 'PRESENT';
        }
        col.values[i] = value;
        col.statuses[i] = status;
      }
    }
  };
  const read = (vp: ViewPlan) => {
    const keys = entityKeysFor(vp.view, options.entities, rowCount);
    const readOptions = withWriteTime ? { features: vp.names, withWriteTime } : { features: vp.names };
    // The embedded store answers synchronously: skip a promise round trip when it offers to.
    return store.readSync
      ? store.readSync(vp.view.name, keys, readOptions)
      : store.read(vp.view.name, keys, readOptions);
  };
  if (plan.views.length === 1) {
    fill(plan.views[0], 0, await read(plan.views[0]));
  } else {
    const all = await Promise.all(plan.views.map(async (vp) => read(vp)));
    plan.views.forEach((vp, k) => fill(vp, k, all[k]));
  }
  return logAnswer(new OnlineFeatures(options.entities, columns, rowCount), options, now);
}

/** Hands a sample of answers to `options.logger` (feature-log.ts); returns the answer. */
export function logAnswer(result: OnlineFeatures, options: GetOnlineFeaturesOptions, nowMs: number): OnlineFeatures {
  const logger = options.logger;
  if (logger?.sample()) {
    logger.log(
      result,
      options.requestId === undefined
        ? { requestTimeMs: nowMs }
        : { requestTimeMs: nowMs, requestId: options.requestId },
    );
  }
  return result;
}

export function countRows(entities: Readonly<Record<string, readonly unknown[]>>): number {
  if (!entities || typeof entities !== 'object') {
    throw new StrataError('INVALID_ARGUMENT', 'entities must map join keys to value lists', {
      field: 'entities',
      hint: 'e.g. { "user_id": [1, 2] }',
    });
  }
  let n = -1;
  let first = '';
  for (const [k, v] of Object.entries(entities)) {
    if (!Array.isArray(v)) {
      throw new StrataError('INVALID_ARGUMENT', `entities.${k} must be a list of values`, { field: `entities.${k}` });
    }
    if (n === -1) {
      n = v.length;
      first = k;
    } else if (v.length !== n) {
      throw new StrataError('INVALID_ARGUMENT', `entities.${k} has ${v.length} values but entities.${first} has ${n}`, {
        field: `entities.${k}`,
        hint: 'give every join key one value per entity row',
      });
    }
  }
  if (n === -1) {
    throw new StrataError('INVALID_ARGUMENT', 'entities is empty', {
      field: 'entities',
      hint: 'e.g. { "user_id": [1, 2] }',
    });
  }
  return n;
}

function entityKeysFor(
  view: OnlineView,
  entities: Readonly<Record<string, readonly unknown[]>>,
  rowCount: number,
): Record<string, unknown>[] {
  const joinKeys = view.entities;
  for (const k of joinKeys) {
    if (!(k in entities)) {
      throw new StrataError('INVALID_ARGUMENT', `feature view ${view.name} needs join key ${k} in entities`, {
        field: `entities.${k}`,
        key: view.name,
        hint: `pass entities: { ${joinKeys.map((j) => `"${j}": [...]`).join(', ')} }`,
      });
    }
  }
  const keys = new Array<Record<string, unknown>>(rowCount);
  const dtypes = view.keyDtypes ?? {};
  if (joinKeys.length === 1) {
    const k = joinKeys[0];
    const col = entities[k];
    const dt = dtypes[k];
    for (let i = 0; i < rowCount; i++) {
      const v = col[i];
      keys[i] = { [k]: typeof v === 'number' && Number.isSafeInteger(v) ? v : keyForDtype(v, dt, `entities.${k}`) };
    }
    return keys;
  }
  for (let i = 0; i < rowCount; i++) {
    const key: Record<string, unknown> = {};
    for (const k of joinKeys) key[k] = keyForDtype(entities[k][i], dtypes[k], `entities.${k}`);
    keys[i] = key;
  }
  return keys;
}
