/**
 * `searchOnline`: nearest entities to a query vector over a materialized embedding feature
 * (Feast's retrieve_online_documents). An exact scan over the stored vectors; rows outside the
 * view's ttl and rows failing `filter` are skipped.
 */
import { StrataError, throwIfAborted } from '../errors.js';
import { METRICS, type Metric } from '../dataset/search/metrics.js';
import { indexRepo, resolveRef } from './repo-index.js';
import type { OnlineStore } from './store.js';
import type { OnlineRepo } from './types.js';

/** Equality filter on entity keys and feature values (a list means "any of"), or a predicate. */
export type SearchFilter =
  | Readonly<Record<string, unknown>>
  | ((row: { readonly entityKey: Record<string, unknown>; readonly values: Record<string, unknown> }) => boolean);

export interface SearchOnlineOptions {
  /** The embedding feature, `view:feature`. */
  readonly feature: string;
  readonly query: ArrayLike<number>;
  /** Hits to return. Default 10. */
  readonly k?: number;
  /** Default `cosine`. */
  readonly metric?: Metric;
  readonly filter?: SearchFilter;
  /** Other features of the same view to return with each hit (names or refs). Default: all of the view's. */
  readonly features?: readonly string[];
  /** Reference time for TTL checks, epoch ms. Default `Date.now()`. */
  readonly nowMs?: number;
  readonly signal?: AbortSignal;
}

export interface OnlineSearchHit {
  readonly entityKey: Record<string, unknown>;
  /** Lower is nearer: 1 − cosine similarity, euclidean distance, or −dot product. */
  readonly distance: number;
  readonly values: Record<string, unknown>;
  readonly eventTimestampMs: number;
}

export async function searchOnline(
  repo: OnlineRepo,
  store: OnlineStore,
  options: SearchOnlineOptions,
): Promise<OnlineSearchHit[]> {
  const { view, feature } = resolveRef(indexRepo(repo), options.feature);
  const metric = options.metric ?? 'cosine';
  if (!METRICS.includes(metric)) {
    throw new StrataError('INVALID_ARGUMENT', `unknown metric ${String(metric)}`, {
      field: 'metric',
      hint: `use one of ${METRICS.join(', ')}`,
    });
  }
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1)
    throw new StrataError('INVALID_ARGUMENT', `k must be a positive integer, got ${k}`, { field: 'k' });
  const q = Float32Array.from(options.query);
  if (q.length === 0 || q.some((x) => !Number.isFinite(x))) {
    throw new StrataError('INVALID_ARGUMENT', 'query must be a non-empty list of finite numbers', { field: 'query' });
  }
  const qNorm = Math.sqrt(dot(q, q));
  const keep = (options.features ?? view.features.map((f) => f.name)).map((f) =>
    f.includes(':') ? f.slice(f.indexOf(':') + 1) : f,
  );
  for (const f of keep) resolveRef(indexRepo(repo), `${view.name}:${f}`);
  const ttl = view.ttlMs && view.ttlMs > 0 ? view.ttlMs : 0;
  const now = options.nowMs ?? Date.now();
  const accept = compileFilter(options.filter);

  const hits: OnlineSearchHit[] = [];
  for await (const batch of store.scan(view.name, { signal: options.signal })) {
    throwIfAborted(options.signal, 'online search');
    for (const row of batch) {
      if (ttl && row.eventTimestampMs < now - ttl) continue;
      const v = row.values[feature.name];
      if (!v || (!ArrayBuffer.isView(v) && !Array.isArray(v))) continue;
      const vec = v as ArrayLike<number>;
      if (vec.length !== q.length) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `query has ${q.length} dimensions but ${options.feature} has ${vec.length}`,
          {
            field: 'query',
            key: options.feature,
          },
        );
      }
      if (!accept(row)) continue;
      const d = distance(metric, q, qNorm, vec);
      if (hits.length === k && d >= hits[k - 1].distance) continue;
      const values: Record<string, unknown> = {};
      for (const f of keep) values[f] = row.values[f] ?? null;
      insertSorted(hits, { entityKey: row.entityKey, distance: d, values, eventTimestampMs: row.eventTimestampMs }, k);
    }
  }
  return hits;
}

function insertSorted(hits: OnlineSearchHit[], hit: OnlineSearchHit, k: number): void {
  let lo = 0;
  let hi = hits.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (hits[mid].distance <= hit.distance) lo = mid + 1;
    else hi = mid;
  }
  hits.splice(lo, 0, hit);
  if (hits.length > k) hits.pop();
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function distance(metric: Metric, q: Float32Array, qNorm: number, v: ArrayLike<number>): number {
  if (metric === 'l2') {
    let s = 0;
    for (let i = 0; i < q.length; i++) {
      const d = q[i] - v[i];
      s += d * d;
    }
    return Math.sqrt(s);
  }
  const p = dot(q, v);
  if (metric === 'dot') return -p;
  const vNorm = Math.sqrt(dot(v, v));
  return qNorm === 0 || vNorm === 0 ? 1 : 1 - p / (qNorm * vNorm);
}

function compileFilter(
  filter: SearchFilter | undefined,
): (row: { entityKey: Record<string, unknown>; values: Record<string, unknown> }) => boolean {
  if (!filter) return () => true;
  if (typeof filter === 'function') return filter;
  const conds = Object.entries(filter).map(([name, want]) => {
    const set = Array.isArray(want) ? want.map(norm) : [norm(want)];
    return { name, set };
  });
  return (row) =>
    conds.every(({ name, set }) => {
      const got = name in row.entityKey ? row.entityKey[name] : row.values[name];
      return set.includes(norm(got));
    });
}

/** Makes 42 and 42n compare equal. */
function norm(v: unknown): unknown {
  return typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v;
}
