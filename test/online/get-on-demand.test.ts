/**
 * The serving side of on-demand views (src/online/get.ts): the stored inputs are read once, by a
 * plan resolved with the on-demand plan, then the features are computed from them. Checks that an
 * input that is not PRESENT (unknown entity, older than the view's TTL) makes the feature NOT_FOUND,
 * that the plan follows a repo whose views change, and that a store answering asynchronously (Redis)
 * gives the same answer as the embedded one (which answers synchronously).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureView,
  defineOnDemandView,
  defineSource,
} from '../../src/features/index.js';
import {
  getOnlineFeatures,
  materialize,
  RedisOnlineStore,
  SqliteOnlineStore,
  type OnlineFeatures,
  type OnlineRepo,
  type OnlineStore,
  type OnlineView,
} from '../../src/online/index.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';

const T = Date.UTC(2024, 5, 1);
const DIM = 8;

function embeddings(seed: number, n: number): A.Vector {
  const values = Float32Array.from({ length: n * DIM }, (_, i) => Math.sin(seed * 1000 + i));
  const type = new A.FixedSizeList(DIM, new A.Field('item', new A.Float32(), true));
  const child = A.makeData({ type: new A.Float32(), length: n * DIM, data: values });
  return A.makeVector(A.makeData({ type, length: n, nullCount: 0, child }));
}

function table(key: string, emb: string, seed: number, ageMs: number): A.Table {
  return new A.Table({
    [key]: A.vectorFromArray([0, 1, 2], new A.Int32()),
    event_timestamp: A.vectorFromArray([T - ageMs, T - ageMs, T - ageMs], new A.TimestampMillisecond()),
    [emb]: embeddings(seed, 3),
  });
}

/** cosine as three separate dot products (the evaluator sums each in the same order, in one pass). */
function cosine(x: Float32Array, y: Float32Array): number {
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  return dot(x, y) / (Math.sqrt(dot(x, x)) * Math.sqrt(dot(y, y)));
}

let dir = '';
let repo: FeatureRepo;
let sqlite: SqliteOnlineStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-get-od-'));
  repo = await FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['uid'] }),
    defineEntity({ name: 'item', joinKeys: ['iid'] }),
    // users are 5 s old; items 1 day old but with a 2-day TTL
    defineSource({ name: 'users_src', kind: 'table', table: table('uid', 'user_emb', 1, 5000) }),
    defineSource({ name: 'items_src', kind: 'table', table: table('iid', 'item_emb', 2, 86_400_000) }),
    defineFeatureView({ name: 'users', entities: ['user'], source: 'users_src', features: ['user_emb'] }),
    defineFeatureView({ name: 'items', entities: ['item'], source: 'items_src', features: ['item_emb'], ttl: '2d' }),
    defineOnDemandView({
      name: 'match',
      inputs: ['users:user_emb', 'items:item_emb'],
      features: [{ name: 'sim', expr: 'cosine(user_emb, item_emb)' }],
    }),
  ]);
  sqlite = await SqliteOnlineStore.open(join(dir, 'online.sqlite'));
  await materialize(repo, sqlite, { start: new Date(T - 3 * 86_400_000), end: new Date(T) });
});
afterAll(async () => {
  await sqlite?.close();
  await repo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const REQUEST = {
  features: ['users:user_emb', 'items:item_emb', 'match:sim'],
  // user 9 and item 7 are unknown
  entities: { uid: [0, 1, 9, 2], iid: [2, 7, 0, 1] },
  nowMs: T,
};

function summary(r: OnlineFeatures) {
  return r.columns.map((c) => ({
    name: c.name,
    ref: c.ref,
    statuses: c.statuses,
    values: c.values.map((v) => (v instanceof Float32Array ? [...v] : v)),
    times: [...c.eventTimestampsMs],
  }));
}

describe('getOnlineFeatures with an on-demand feature', () => {
  it('computes from the stored inputs; a missing or stale input makes the feature NOT_FOUND', async () => {
    const r = await getOnlineFeatures(repo, sqlite, REQUEST);
    expect(r.featureNames).toEqual(['uid', 'iid', 'user_emb', 'item_emb', 'sim']);
    const user = r.column('user_emb');
    const item = r.column('item_emb');
    const sim = r.column('sim');
    expect(sim.ref).toBe('match:sim');
    expect(user.statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND', 'PRESENT']);
    expect(item.statuses).toEqual(['PRESENT', 'NOT_FOUND', 'PRESENT', 'PRESENT']);
    expect(sim.statuses).toEqual(['PRESENT', 'NOT_FOUND', 'NOT_FOUND', 'PRESENT']);
    for (const i of [0, 3]) {
      expect(sim.values[i]).toBe(cosine(user.values[i] as Float32Array, item.values[i] as Float32Array));
    }
    expect(sim.values[1]).toBeNull();
    // the feature's event time is its newest input's
    expect(sim.eventTimestampsMs[0]).toBe(T - 5000);
    // three days later the items are past their TTL: served as OUTSIDE_MAX_AGE, the feature NOT_FOUND
    const later = await getOnlineFeatures(repo, sqlite, { ...REQUEST, nowMs: T + 3 * 86_400_000 });
    expect(later.column('item_emb').statuses).toEqual([
      'OUTSIDE_MAX_AGE',
      'NOT_FOUND',
      'OUTSIDE_MAX_AGE',
      'OUTSIDE_MAX_AGE',
    ]);
    expect(later.column('sim').statuses).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(later.column('sim').values).toEqual([null, null, null, null]);
    // full names: the same values under view__feature
    const full = await getOnlineFeatures(repo, sqlite, { ...REQUEST, fullFeatureNames: true });
    expect(full.featureNames).toEqual(['uid', 'iid', 'users__user_emb', 'items__item_emb', 'match__sim']);
    expect(full.column('match__sim').values).toEqual(sim.values);
  });

  it('follows a repo whose views change (the stored inputs are re-resolved)', async () => {
    const live: { -readonly [K in keyof OnlineRepo]: OnlineRepo[K] } & { views: readonly OnlineView[] } = {
      views: repo.views,
      services: repo.services,
      onDemandViews: repo.onDemandViews,
      latestValues: (view, options) => repo.latestValues(view, options),
      push: (source, events) => repo.push(source, events),
    };
    const before = await getOnlineFeatures(live, sqlite, REQUEST);
    expect(before.column('sim').statuses).toEqual(['PRESENT', 'NOT_FOUND', 'NOT_FOUND', 'PRESENT']);
    // the users view gets a 1 s TTL: its 5 s old rows are now stale, so sim is NOT_FOUND everywhere
    live.views = repo.views.map((v) => (v.name === 'users' ? { ...v, ttlMs: 1000 } : v));
    const after = await getOnlineFeatures(live, sqlite, REQUEST);
    expect(after.column('user_emb').statuses).toEqual([
      'OUTSIDE_MAX_AGE',
      'OUTSIDE_MAX_AGE',
      'NOT_FOUND',
      'OUTSIDE_MAX_AGE',
    ]);
    expect(after.column('sim').statuses).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    // a view removed: its refs are NOT_FOUND (an error naming the view), not served from the old plan
    live.views = repo.views.filter((v) => v.name !== 'items');
    await expect(getOnlineFeatures(live, sqlite, REQUEST)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  (REDIS_SKIP ? it.skip : it)('gives the same answer from a store that reads asynchronously (Redis)', async () => {
    const server = await RedisServer.start();
    let redis: OnlineStore | undefined;
    try {
      redis = await RedisOnlineStore.open({ url: server.url, project: 'od' });
      expect('readSync' in redis).toBe(false);
      await materialize(repo, redis, { start: new Date(T - 3 * 86_400_000), end: new Date(T) });
      for (const nowMs of [T, T + 3 * 86_400_000]) {
        const fromRedis = await getOnlineFeatures(repo, redis, { ...REQUEST, nowMs });
        const fromSqlite = await getOnlineFeatures(repo, sqlite, { ...REQUEST, nowMs });
        expect(summary(fromRedis)).toEqual(summary(fromSqlite));
      }
      // bad request data is still a rejection, not a throw
      const bad = getOnlineFeatures(repo, redis, { ...REQUEST, entities: { uid: [0], iid: [0, 1] } });
      await expect(bad).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await redis?.close();
      await server.close();
    }
  });
});
