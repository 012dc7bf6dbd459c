/**
 * `getOnlineFeatures`: resolve refs, read each view once for all entity rows, and report per cell
 * value, status and event time. TTL is enforced here, on read, with the view's ttl: a value older than
 * `now - ttl` is `OUTSIDE_MAX_AGE` (its value is withheld as null), never `PRESENT`.
 */
import { StrataError } from '../errors.js';
import { indexRepo, resolveFeatures, type ResolvedFeature } from './repo-index.js';
import { OnlineFeatures, type FeatureColumn, type FeatureStatus } from './result.js';
import type { OnlineStore } from './store.js';
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
}

export async function getOnlineFeatures(
  repo: OnlineRepo,
  store: OnlineStore,
  options: GetOnlineFeaturesOptions,
): Promise<OnlineFeatures> {
  const index = indexRepo(repo);
  const resolved = resolveFeatures(index, options);
  const rowCount = countRows(options.entities);
  const full = options.fullFeatureNames ?? false;
  const now = options.nowMs ?? Date.now();

  const byView = new Map<string, ResolvedFeature[]>();
  for (const r of resolved) {
    const list = byView.get(r.view.name);
    if (list) list.push(r);
    else byView.set(r.view.name, [r]);
  }
  const columns: FeatureColumn[] = [];
  const seen = new Map<string, string>();
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
    columns.push({
      name,
      ref: r.ref,
      view: r.view.name,
      feature: r.feature.name,
      dtype: r.feature.dtype,
      values: new Array(rowCount),
      statuses: new Array(rowCount),
      eventTimestampsMs: new Float64Array(rowCount),
    });
  }

  await Promise.all(
    [...byView.values()].map(async (feats) => {
      const view = feats[0].view;
      const keys = entityKeysFor(view, options.entities, rowCount);
      const names = feats.map((f) => f.feature.name);
      const records = await store.read(view.name, keys, { features: names });
      const ttl = view.ttlMs && view.ttlMs > 0 ? view.ttlMs : 0;
      const cols = feats.map((f) => columns[resolved.indexOf(f)]);
      for (let i = 0; i < rowCount; i++) {
        const rec = records[i];
        const stale = rec !== null && ttl > 0 && rec.eventTimestampMs < now - ttl;
        for (let j = 0; j < cols.length; j++) {
          const col = cols[j];
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
          col.eventTimestampsMs[i] = rec ? rec.eventTimestampMs : 0;
        }
      }
    }),
  );
  return new OnlineFeatures(options.entities, columns, rowCount);
}

function countRows(entities: Readonly<Record<string, readonly unknown[]>>): number {
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
    throw new StrataError('INVALID_ARGUMENT', 'entities is empty', { field: 'entities', hint: 'e.g. { "user_id": [1, 2] }' });
  }
  return n;
}

function entityKeysFor(view: OnlineView, entities: Readonly<Record<string, readonly unknown[]>>, rowCount: number): Record<string, unknown>[] {
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
  const keys: Record<string, unknown>[] = new Array(rowCount);
  if (joinKeys.length === 1) {
    const k = joinKeys[0];
    const col = entities[k];
    for (let i = 0; i < rowCount; i++) keys[i] = { [k]: col[i] };
    return keys;
  }
  for (let i = 0; i < rowCount; i++) {
    const key: Record<string, unknown> = {};
    for (const k of joinKeys) key[k] = entities[k][i];
    keys[i] = key;
  }
  return keys;
}
