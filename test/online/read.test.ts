/** getOnlineFeatures / searchOnline / materialize / push on every store, fed by an in-memory repo. */
import { describe, expect, it } from 'vitest';
import {
  getOnlineFeatures,
  materialize,
  materializedEnd,
  materializeIncremental,
  pushToOnline,
  searchOnline,
  type OnlineStore,
} from '../../src/online/index.js';
import { DAY_MS, FakeRepo, generateEvents, USER_VIEW, type FakeEvent } from './fixtures/fake-repo.js';
import { storeKinds } from './stores.js';

const kinds = storeKinds();
const T0 = Date.parse('2024-01-01T00:00:00Z');

function userEvent(user_id: number, ts: number, values: Partial<Record<string, unknown>>): FakeEvent {
  return {
    view: 'user_stats',
    entityKey: { user_id },
    values: { clicks: 1n, score: 0.5, country: 'DE', active: true, embedding: [1, 0, 0, 0], ...values },
    ts,
  };
}

describe.each(kinds)('reading features: $name', (kind) => {
  const maybe = kind.skip ? it.skip : it;

  async function withStore(fn: (store: OnlineStore) => Promise<void>): Promise<void> {
    const { store } = await kind.open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  maybe('statuses: PRESENT, NOT_FOUND, NULL_VALUE, OUTSIDE_MAX_AGE (ttl on read)', () =>
    withStore(async (store) => {
      const now = T0 + 10 * DAY_MS;
      const repo = new FakeRepo([
        userEvent(1, now - 1000, { score: 0.25 }),
        userEvent(2, now - 1000, { score: null, country: undefined }),
        userEvent(3, now - 2 * DAY_MS, { score: 0.75 }),
        userEvent(4, now - DAY_MS, { score: 1 }), // exactly ttl old: still present
      ]);
      await materialize(repo, store, { start: new Date(T0), end: new Date(now) });
      const res = await getOnlineFeatures(repo, store, {
        features: ['user_stats:score', 'user_stats:country', 'user_stats:clicks'],
        entities: { user_id: [1, 2, 3, 4, 5] },
        nowMs: now,
      });
      const score = res.column('score');
      expect(score.statuses).toEqual(['PRESENT', 'NULL_VALUE', 'OUTSIDE_MAX_AGE', 'PRESENT', 'NOT_FOUND']);
      expect(score.values).toEqual([0.25, null, null, 1, null]);
      expect([...score.eventTimestampsMs]).toEqual([now - 1000, now - 1000, now - 2 * DAY_MS, now - DAY_MS, 0]);
      expect(res.column('country').statuses).toEqual([
        'PRESENT',
        'NULL_VALUE',
        'OUTSIDE_MAX_AGE',
        'PRESENT',
        'NOT_FOUND',
      ]);
      expect(res.column('clicks').values).toEqual([1n, 1n, null, 1n, null]);
      expect(res.featureNames).toEqual(['user_id', 'score', 'country', 'clicks']);
      expect(res.toObjects()[0]).toEqual({ user_id: 1, score: 0.25, country: 'DE', clicks: 1n });
      expect(res.row(2).statuses.score).toBe('OUTSIDE_MAX_AGE');
    }),
  );

  maybe('withWriteTime: each column carries when the store wrote its rows (shared per view), rows too', () =>
    withStore(async (store) => {
      const now = T0 + DAY_MS;
      const repo = new FakeRepo([
        userEvent(1, now - 10, {}),
        { view: 'user_item', entityKey: { user_id: 1, item_id: 'a' }, values: { views: 3n }, ts: now - 5 },
      ]);
      const before = Date.now();
      await materialize(repo, store, { start: new Date(T0), end: new Date(now) });
      const after = Date.now();
      const ask = {
        features: ['user_stats:clicks', 'user_stats:score', 'user_item:views'],
        entities: { user_id: [1, 2], item_id: ['a', 'a'] },
        nowMs: now,
      };
      const plain = await getOnlineFeatures(repo, store, ask);
      expect(plain.columns.every((c) => c.writeTimestampsMs === undefined)).toBe(true);
      expect(plain.row(0)).not.toHaveProperty('writeTimestampsMs');
      const res = await getOnlineFeatures(repo, store, { ...ask, withWriteTime: true });
      expect(res.column('clicks').writeTimestampsMs).toBe(res.column('score').writeTimestampsMs);
      for (const name of ['clicks', 'views']) {
        const [w1, w2] = res.column(name).writeTimestampsMs!;
        expect(w1).toBeGreaterThanOrEqual(before);
        expect(w1).toBeLessThanOrEqual(after);
        expect(w2).toBe(0); // NOT_FOUND
      }
      expect([...res.column('clicks').eventTimestampsMs]).toEqual([now - 10, 0]);
      expect(res.row(0).writeTimestampsMs?.views).toBe(res.column('views').writeTimestampsMs![0]);
      expect(res.toObjects()).toEqual(plain.toObjects());
    }),
  );

  maybe('feature services, full feature names, multi-key views, tensors with embeddings', () =>
    withStore(async (store) => {
      const now = T0 + DAY_MS;
      const repo = new FakeRepo([
        userEvent(1, now - 10, { clicks: 5n, embedding: [1, 2, 3, 4] }),
        userEvent(2, now - 10, { clicks: 7n, embedding: [5, 6, 7, 8] }),
        { view: 'user_item', entityKey: { user_id: 1, item_id: 'a' }, values: { views: 3n }, ts: now - 5 },
      ]);
      await materialize(repo, store, { start: new Date(T0), end: new Date(now) });
      const res = await getOnlineFeatures(repo, store, {
        featureService: 'ranker',
        entities: { user_id: [1, 2], item_id: ['a', 'a'] },
        fullFeatureNames: true,
        nowMs: now,
      });
      expect(res.featureNames).toEqual([
        'user_id',
        'item_id',
        'user_stats__clicks',
        'user_stats__embedding',
        'user_item__views',
      ]);
      expect(res.column('user_item__views').statuses).toEqual(['PRESENT', 'NOT_FOUND']);
      const t = res.toTensor();
      expect(t.shape).toEqual([2, 6]);
      expect(t.columns).toEqual([
        'user_stats__clicks',
        'user_stats__embedding[0]',
        'user_stats__embedding[1]',
        'user_stats__embedding[2]',
        'user_stats__embedding[3]',
        'user_item__views',
      ]);
      expect([...t.data.slice(0, 6)]).toEqual([5, 1, 2, 3, 4, 3]);
      expect([...t.data.slice(6, 11)]).toEqual([7, 5, 6, 7, 8]);
      expect(Number.isNaN(t.data[11])).toBe(true);
      expect(res.toTensor({ fill: 0 }).data[11]).toBe(0);
      const strings = await getOnlineFeatures(repo, store, {
        features: ['user_stats:country'],
        entities: { user_id: [1] },
        nowMs: now,
      });
      expect(() => strings.toTensor()).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    }),
  );

  maybe('bad requests: unknown feature/view/service → NOT_FOUND naming it; bad entities → INVALID_ARGUMENT', () =>
    withStore(async (store) => {
      const repo = new FakeRepo();
      const get = (o: Record<string, unknown>) => getOnlineFeatures(repo, store, { entities: { user_id: [1] }, ...o });
      await expect(get({ features: ['user_stats:nope'] })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { key: 'user_stats:nope' },
      });
      await expect(get({ features: ['ghost:x'] })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { key: 'ghost:x' },
      });
      await expect(get({ featureService: 'ghost' })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { key: 'ghost' },
      });
      await expect(get({ features: ['score'] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'features' },
      });
      await expect(get({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'features' } });
      await expect(get({ features: ['user_item:views'] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'entities.item_id' },
      });
      await expect(
        getOnlineFeatures(repo, store, {
          features: ['user_item:views'],
          entities: { user_id: [1, 2], item_id: ['a'] },
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'entities.item_id' } });
      await expect(
        get({ features: ['user_stats:clicks', 'user_item:views'], entities: { user_id: [1], item_id: ['a'] } }),
      ).resolves.toBeDefined();
      const dup = new FakeRepo([], {
        views: [USER_VIEW, { ...USER_VIEW, name: 'other' }],
      });
      await expect(
        getOnlineFeatures(dup, store, { features: ['user_stats:clicks', 'other:clicks'], entities: { user_id: [1] } }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }),
  );

  maybe('searchOnline: exact nearest neighbours with filter, metric and ttl', () =>
    withStore(async (store) => {
      const now = T0 + DAY_MS;
      const repo = new FakeRepo([
        userEvent(1, now - 10, { embedding: [1, 0, 0, 0], country: 'DE' }),
        userEvent(2, now - 10, { embedding: [0.9, 0.1, 0, 0], country: 'FR' }),
        userEvent(3, now - 10, { embedding: [0, 1, 0, 0], country: 'DE' }),
        userEvent(4, now - 10, { embedding: [-1, 0, 0, 0], country: 'DE' }),
        userEvent(5, now - 3 * DAY_MS, { embedding: [1, 0, 0, 0], country: 'DE' }), // outside ttl
      ]);
      await materialize(repo, store, { start: new Date(T0 - 5 * DAY_MS), end: new Date(now) });
      const hits = await searchOnline(repo, store, {
        feature: 'user_stats:embedding',
        query: [1, 0, 0, 0],
        k: 3,
        nowMs: now,
      });
      expect(hits.map((h) => h.entityKey.user_id)).toEqual([1, 2, 3]);
      expect(hits[0].distance).toBeCloseTo(0, 6);
      expect(hits[0].values.country).toBe('DE');
      const de = await searchOnline(repo, store, {
        feature: 'user_stats:embedding',
        query: [1, 0, 0, 0],
        k: 10,
        filter: { country: 'DE' },
        metric: 'l2',
        features: ['country'],
        nowMs: now,
      });
      expect(de.map((h) => h.entityKey.user_id)).toEqual([1, 3, 4]);
      expect(de[0].values).toEqual({ country: 'DE' });
      const fn = await searchOnline(repo, store, {
        feature: 'user_stats:embedding',
        query: [1, 0, 0, 0],
        metric: 'dot',
        filter: (r) => r.entityKey.user_id !== 1,
        k: 1,
        nowMs: now,
      });
      expect(fn.map((h) => h.entityKey.user_id)).toEqual([2]);
      await expect(
        searchOnline(repo, store, { feature: 'user_stats:embedding', query: [1, 0], nowMs: now }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'query' },
      });
      await expect(searchOnline(repo, store, { feature: 'user_stats:nope', query: [1] })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    }),
  );

  maybe('materialize in batches with progress; incremental picks up from the watermark', () =>
    withStore(async (store) => {
      const events = generateEvents(250, 4, T0, DAY_MS, 7);
      const repo = new FakeRepo(events, { batchRows: 64 });
      const progress: number[] = [];
      const mid = new Date(T0 + DAY_MS / 2);
      const r1 = await materializeIncremental(repo, store, {
        end: mid,
        onProgress: (p) => progress.push(p.done),
        batchRows: 50,
      });
      expect(r1.views.map((v) => v.view)).toEqual(['user_stats', 'user_item']);
      expect(r1.views[0].startMs).toBe(mid.getTime() - DAY_MS); // ttl back from end the first time
      expect(progress.at(-1)).toBe(r1.views[1].rows);
      expect((await materializedEnd(store, 'user_stats'))?.getTime()).toBe(mid.getTime());
      const end = new Date(T0 + DAY_MS);
      const r2 = await materializeIncremental(repo, store, { end });
      expect(r2.views[0].startMs).toBe(mid.getTime());
      // The store now holds, per user, the latest event before `end`.
      const ids = Array.from({ length: 250 }, (_, i) => i);
      const res = await getOnlineFeatures(repo, store, {
        features: ['user_stats:score'],
        entities: { user_id: ids },
        nowMs: end.getTime(),
      });
      for (const id of ids) {
        const mine = events.filter((e) => e.view === 'user_stats' && e.entityKey.user_id === id);
        const latest = mine.reduce((a, b) => (b.ts >= a.ts ? b : a));
        expect(res.column('score').eventTimestampsMs[id]).toBe(latest.ts);
        expect(res.column('score').values[id]).toBe(latest.values.score);
      }
      // Nothing new: an incremental run up to the same end writes nothing.
      const r3 = await materializeIncremental(repo, store, { end });
      expect(r3.views.every((v) => v.rows === 0)).toBe(true);
      // Explicit views and abort.
      const ac = new AbortController();
      ac.abort();
      await expect(
        materialize(repo, store, { start: new Date(T0), end, views: ['user_item'], signal: ac.signal }),
      ).rejects.toMatchObject({
        code: 'ABORTED',
      });
      await expect(materialize(repo, store, { start: new Date(T0), end, views: ['ghost'] })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(materialize(repo, store, { start: end, end: new Date(T0) })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }),
  );

  maybe('pushToOnline writes the current values the engine returns; late events do not regress', () =>
    withStore(async (store) => {
      const repo = new FakeRepo([], { pushSources: { user_events: 'user_stats' } });
      const now = T0 + 1000;
      const r = await pushToOnline(repo, store, 'user_events', [
        {
          user_id: 1,
          event_timestamp: now - 10,
          clicks: 3n,
          score: 0.5,
          country: 'JP',
          active: false,
          embedding: [0, 0, 1, 0],
        },
        {
          user_id: 2,
          event_timestamp: new Date(now - 5).toISOString(),
          clicks: 4n,
          score: 0.6,
          country: 'US',
          active: true,
          embedding: [0, 1, 0, 0],
        },
      ]);
      expect(r).toMatchObject({ rows: 2, written: 2, skipped: 0, views: [{ view: 'user_stats', rows: 2 }] });
      await pushToOnline(repo, store, 'user_events', [
        { user_id: 1, event_timestamp: now - 500, clicks: 99n, score: 0.1 },
      ]);
      const res = await getOnlineFeatures(repo, store, {
        features: ['user_stats:clicks', 'user_stats:embedding'],
        entities: { user_id: [1, 2] },
        nowMs: now,
      });
      expect(res.column('clicks').values).toEqual([3n, 4n]);
      expect(res.column('embedding').values[0]).toEqual(Float32Array.from([0, 0, 1, 0]));
    }),
  );
});
