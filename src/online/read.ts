/**
 * `getOnlineFeatures`: resolve refs, read each view once for all entity rows, and report per cell
 * value, status and event time. TTL is enforced here, on read, with the view's ttl: a value older than
 * `now - ttl` is `OUTSIDE_MAX_AGE` (its value is withheld as null), never `PRESENT`.
 */
import { StrataError } from '../errors.js';
import { keyForDtype } from './keys.js';
import { readPlanFor, type ReadPlan, type ViewPlan } from './read-plan.js';
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

/** `getOnlineFeatures` without on-demand views (get.ts adds them). `key`: `planKey(options)` when known. */
export function readOnlineFeatures(
  repo: OnlineRepo,
  store: OnlineStore,
  options: GetOnlineFeaturesOptions,
  key?: string,
): Promise<OnlineFeatures> {
  try {
    const r = readWithPlan(store, options, readPlanFor(repo, options, key));
    return r instanceof OnlineFeatures ? Promise.resolve(r) : r;
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Reads `plan`'s features for `options.entities`. Synchronous (no promise) when the store offers
 * `readSync`, as the embedded one does; else a promise. May throw (INVALID_ARGUMENT) before reading.
 */
export function readWithPlan(
  store: OnlineStore,
  options: GetOnlineFeaturesOptions,
  plan: ReadPlan,
): OnlineFeatures | Promise<OnlineFeatures> {
  const rowCount = countRows(options.entities);
  const now = options.nowMs ?? Date.now();
  const nViews = plan.views.length;
  // Columns of one view share their event times (one row per entity): one array per view.
  const times = new Array<Float64Array>(nViews);
  const withWriteTime = options.withWriteTime === true;
  const writeTimes = withWriteTime ? new Array<Float64Array>(nViews) : undefined;
  const columns = new Array<FeatureColumn>(plan.columns.length);
  for (let k = 0; k < nViews; k++) {
    const ts = (times[k] = new Float64Array(rowCount));
    const wts = writeTimes ? (writeTimes[k] = new Float64Array(rowCount)) : undefined;
    for (const ci of plan.views[k].columnIndex) {
      const c = plan.columns[ci];
      columns[ci] = wts
        ? {
            name: c.name,
            ref: c.ref,
            view: c.view,
            feature: c.feature,
            dtype: c.dtype,
            values: new Array<unknown>(rowCount),
            statuses: new Array<FeatureStatus>(rowCount),
            eventTimestampsMs: ts,
            writeTimestampsMs: wts,
          }
        : {
            name: c.name,
            ref: c.ref,
            view: c.view,
            feature: c.feature,
            dtype: c.dtype,
            values: new Array<unknown>(rowCount),
            statuses: new Array<FeatureStatus>(rowCount),
            eventTimestampsMs: ts,
          };
    }
  }
  if (store.readSync) {
    // The embedded store answers synchronously: no promise round trip at all.
    for (let k = 0; k < nViews; k++) {
      const vp = plan.views[k];
      const keys = entityKeysFor(vp.view, options.entities, rowCount);
      const records = store.readSync(vp.view.name, keys, withWriteTime ? vp.readOptionsWithWriteTime : vp.readOptions);
      fillView(vp, columns, times[k], writeTimes?.[k], records, rowCount, now);
    }
    return logAnswer(new OnlineFeatures(options.entities, columns, rowCount), options, now);
  }
  // every view's keys first: a bad key is thrown before any read is in flight
  const keys = plan.views.map((vp) => entityKeysFor(vp.view, options.entities, rowCount));
  return Promise.all(
    plan.views.map((vp, k) =>
      store.read(vp.view.name, keys[k], withWriteTime ? vp.readOptionsWithWriteTime : vp.readOptions),
    ),
  ).then((all) => {
    for (let k = 0; k < nViews; k++) fillView(plan.views[k], columns, times[k], writeTimes?.[k], all[k], rowCount, now);
    return logAnswer(new OnlineFeatures(options.entities, columns, rowCount), options, now);
  });
}

/** One view's records into its columns: value, status (TTL checked against `now`), event and write times. */
function fillView(
  vp: ViewPlan,
  columns: FeatureColumn[],
  ts: Float64Array,
  wts: Float64Array | undefined,
  records: readonly (OnlineRecord | null)[],
  rowCount: number,
  now: number,
): void {
  const ttl = vp.view.ttlMs && vp.view.ttlMs > 0 ? vp.view.ttlMs : 0;
  const names = vp.names;
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
