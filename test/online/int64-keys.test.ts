/**
 * int64 join keys beyond 2^53 (Snowflake-style ids) are exact end to end: materialized from the
 * engine into SQLite and Redis, read back by bigint or decimal-string keys, pushed and served over
 * HTTP (JSON numbers cannot carry them: strings in, strings out).
 */
import * as A from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../src/features/index.js';
import { getOnlineFeatures, materialize, pushToOnline } from '../../src/online/index.js';
import { createFeatureServer } from '../../src/serve/index.js';
import { storeKinds } from './stores.js';

const K1 = 2n ** 60n + 1n;
const K2 = 2n ** 60n + 2n;
const T0 = Date.UTC(2024, 0, 1);

async function bigKeyRepo(): Promise<FeatureRepo> {
  const table = new A.Table({
    uid: A.makeVector(A.makeData({ type: new A.Int64(), length: 3, data: BigInt64Array.of(K1, K2, K1) })),
    event_timestamp: A.vectorFromArray([T0, T0 + 60_000, T0 + 120_000], new A.TimestampMillisecond()),
    amount: A.vectorFromArray([1.5, 20, 3], new A.Float64()),
  });
  return FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['uid'], valueType: 'int64' }),
    defineSource({ name: 'tx', kind: 'table', table }),
    defineSource({
      name: 'tx_push',
      kind: 'push',
      schema: { uid: 'int64', event_timestamp: 'timestamp', amount: 'float64' },
    }),
    defineFeatureView({ name: 'last_tx', entities: ['user'], source: 'tx', features: ['amount'] }),
    defineFeatureView({
      name: 'tx_stats',
      entities: ['user'],
      source: 'tx',
      aggregations: [{ column: 'amount', function: 'sum', window: '1h', name: 'amount_1h' }],
    }),
    defineFeatureView({ name: 'live', entities: ['user'], source: 'tx_push', features: ['amount'] }),
  ]);
}

describe('int64 keys beyond 2^53', () => {
  const kinds = storeKinds();
  for (const kind of kinds) {
    it.skipIf(kind.skip)(`${kind.name}: materialize, then read by bigint and by decimal string`, async () => {
      const { store } = await kind.open();
      await using repo = await bigKeyRepo();
      try {
        await materialize(repo, store, { start: new Date(T0 - 1), end: new Date(T0 + 5 * 60_000) });
        const res = await getOnlineFeatures(repo, store, {
          features: ['last_tx:amount', 'tx_stats:amount_1h'],
          entities: { uid: [K1, String(K2), K2 + 1n, String(K1)] },
          nowMs: T0 + 5 * 60_000,
        });
        expect(res.column('amount').values).toEqual([3, 20, null, 3]);
        expect(res.column('amount').statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND', 'PRESENT']);
        expect(res.column('amount_1h').values).toEqual([4.5, 20, null, 4.5]);
        // a number beyond 2^53 has lost its low bits (2^60 + 1 → 2^60): refused, not looked up
        await expect(
          getOnlineFeatures(repo, store, { features: ['last_tx:amount'], entities: { uid: [Number(K1)] } }),
        ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'entities.uid' } });
        // pushToOnline with bigint and decimal-text keys: each entity keeps its own value
        await pushToOnline(repo, store, 'tx_push', [
          { uid: K1, event_timestamp: T0 + 10 * 60_000, amount: 7 },
          { uid: String(K2), event_timestamp: T0 + 10 * 60_000, amount: 8 },
        ]);
        const live = await getOnlineFeatures(repo, store, {
          features: ['live:amount'],
          entities: { uid: [String(K1), K2] },
        });
        expect(live.column('amount').values).toEqual([7, 8]);
      } finally {
        await store.close();
      }
    });
  }

  it('HTTP: /push and /get-online-features take int64 ids as strings and return them exactly', async () => {
    const { store } = await kinds[0].open();
    await using repo = await bigKeyRepo();
    await using server = await createFeatureServer(repo, store, { token: '' });
    const post = (path: string, body: unknown) =>
      fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const pushed = await post('/push', {
      push_source_name: 'tx_push',
      df: {
        uid: [String(K1), String(K2)],
        event_timestamp: [T0, T0],
        amount: [1, 2],
      },
    });
    expect(pushed.status).toBe(200);
    const res = await post('/get-online-features', {
      features: ['live:amount'],
      entities: { uid: [String(K2), String(K1)] },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { results: { values: unknown[]; statuses: string[] }[] };
    expect(body.results[0].values).toEqual([String(K2), String(K1)]);
    expect(body.results[1]).toMatchObject({ values: [2, 1], statuses: ['PRESENT', 'PRESENT'] });
    // a JSON number beyond 2^53 cannot be told apart from its neighbours: 400 naming the field
    const lossy = await fetch(server.url + '/get-online-features', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"features":["live:amount"],"entities":{"uid":[${K1}]}}`,
    });
    expect(lossy.status).toBe(400);
    expect(((await lossy.json()) as { error: { field: string } }).error.field).toBe('entities.uid');
    await store.close();
  });
});
