/**
 * The contract src/online builds on: repo.views / entities / services, latestValues() and push(),
 * plus count_distinct's exact → HyperLogLog switch.
 */
import { describe, expect, it } from 'vitest';
import { tableFromRecords } from '../../src/features/engine/build.js';
import {
  FeatureRepo,
  HLL_STD_ERROR,
  defineEntity,
  defineFeatureService,
  defineFeatureView,
  defineSource,
  type FeatureRowBatch,
} from '../../src/features/index.js';
import { HOUR } from './_oracle.js';

const T0 = Date.UTC(2024, 0, 1);
const history = tableFromRecords(
  [
    { user_id: 'a', event_timestamp: T0, amount: 5, country: 'fr' },
    { user_id: 'a', event_timestamp: T0 + HOUR, amount: 7, country: 'de' },
    { user_id: 'b', event_timestamp: T0 + 2 * HOUR, amount: 1, country: 'fr' },
    { user_id: 'c', event_timestamp: T0 + 5 * HOUR, amount: 2, country: 'it' },
  ],
  { dtypes: { user_id: 'string', event_timestamp: 'timestamp', amount: 'float64', country: 'string' } },
);

async function repo() {
  return FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['user_id'], valueType: 'string' }),
    defineSource({ name: 'history', kind: 'table', table: history }),
    defineSource({
      name: 'payments',
      kind: 'push',
      batchSource: 'history',
      allowedLateness: '10m',
      schema: { user_id: 'string', event_timestamp: 'timestamp', amount: 'float64', country: 'string' },
    }),
    defineFeatureView({
      name: 'last_payment',
      entities: ['user'],
      source: 'payments',
      ttl: '1d',
      features: ['amount', 'country'],
    }),
    defineFeatureView({
      name: 'spend',
      entities: ['user'],
      source: 'payments',
      aggregations: [
        { column: 'amount', function: 'sum', window: '2h', name: 'spend_2h' },
        { function: 'count', window: 'lifetime', name: 'payments' },
        { column: 'country', function: 'last_n', window: '1d', n: 2, name: 'countries' },
      ],
    }),
    defineFeatureService({ name: 'fraud', features: ['last_payment:amount', 'spend'] }),
  ]);
}

async function collect(it: AsyncIterable<FeatureRowBatch>) {
  const out: Record<string, { values: Record<string, unknown>; ts: number }> = {};
  for await (const b of it)
    b.entityKeys.forEach(
      (k, i) => (out[String(k.user_id)] = { values: b.values[i], ts: Number(b.eventTimestampsMs[i]) }),
    );
  return out;
}

describe('online contract', () => {
  it('exposes views, entities and services', async () => {
    const r = await repo();
    const last = r.views.find((v) => v.name === 'last_payment')!;
    expect(last).toMatchObject({
      name: 'last_payment',
      entities: ['user_id'],
      ttlMs: 86_400_000,
      features: [
        { name: 'amount', dtype: 'float64' },
        { name: 'country', dtype: 'string' },
      ],
    });
    expect(r.views.find((v) => v.name === 'spend')!.features).toEqual([
      { name: 'spend_2h', dtype: 'float64' },
      { name: 'payments', dtype: 'int64' },
      { name: 'countries', dtype: 'list<string>' },
    ]);
    expect(r.entities).toEqual([{ name: 'user', joinKeys: ['user_id'], valueType: 'string' }]);
    expect(r.services).toEqual([
      { name: 'fraud', features: ['last_payment:amount', 'spend:spend_2h', 'spend:payments', 'spend:countries'] },
    ]);
  });

  it('latestValues: latest rows in [start, end]; window values as of end', async () => {
    const r = await repo();
    const plain = await collect(
      r.latestValues('last_payment', { start: new Date(T0 + 30 * 60_000), end: new Date(T0 + 3 * HOUR) }),
    );
    expect(plain).toEqual({
      a: { values: { amount: 7, country: 'de' }, ts: T0 + HOUR },
      b: { values: { amount: 1, country: 'fr' }, ts: T0 + 2 * HOUR },
    });
    const aggs = await collect(r.latestValues('spend', { end: new Date(T0 + 2 * HOUR) }));
    expect(aggs).toEqual({
      a: { values: { spend_2h: 7, payments: 2, countries: ['fr', 'de'] }, ts: T0 + 2 * HOUR },
      b: { values: { spend_2h: 1, payments: 1, countries: ['fr'] }, ts: T0 + 2 * HOUR },
    });
    await expect(collect(r.latestValues('spend', { end: new Date(Number.NaN) }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(collect(r.latestValues('nope', { end: new Date() }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('push: starts from the batch history, returns the touched entities per view, feeds training sets', async () => {
    const r = await repo();
    const out = await r.push('payments', [
      { user_id: 'a', event_timestamp: new Date(T0 + 5 * HOUR + 60_000), amount: 10, country: 'es' },
      { user_id: 'd', event_timestamp: T0 + 5 * HOUR + 120_000, amount: 3, country: 'fr' },
    ]);
    expect(out).toEqual([
      {
        view: 'last_payment',
        entityKeys: [{ user_id: 'a' }, { user_id: 'd' }],
        values: [
          { amount: 10, country: 'es' },
          { amount: 3, country: 'fr' },
        ],
        eventTimestampsMs: [T0 + 5 * HOUR + 60_000, T0 + 5 * HOUR + 120_000],
      },
      {
        view: 'spend',
        entityKeys: [{ user_id: 'a' }, { user_id: 'd' }],
        values: [
          { spend_2h: 10, payments: 3, countries: ['de', 'es'] },
          { spend_2h: 3, payments: 1, countries: ['fr'] },
        ],
        eventTimestampsMs: [T0 + 5 * HOUR + 120_000, T0 + 5 * HOUR + 120_000],
      },
    ]);
    // a late event within 10 minutes updates the same windows
    const [, spend] = await r.push('payments', [
      { user_id: 'a', event_timestamp: T0 + 5 * HOUR - 5 * 60_000, amount: 1, country: 'fr' },
    ]);
    expect(spend.values).toEqual([{ spend_2h: 11, payments: 4, countries: ['fr', 'es'] }]);
    // pushed events are part of the offline data too
    const ts = await r
      .getHistoricalFeatures([{ user_id: 'a', event_timestamp: new Date(T0 + 6 * HOUR) }], { featureService: 'fraud' })
      .toArray();
    expect(ts[0]).toMatchObject({ amount: 10, spend_2h: 11, payments: 4, countries: ['fr', 'es'] });
    await expect(r.push('history', [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('count_distinct', () => {
  it('is exact up to the limit and HyperLogLog within the stated error above it', async () => {
    const n = 60_000;
    const rows = Array.from({ length: n }, (_, i) => ({ k: 1, event_timestamp: T0 + i, item: `item-${i % 30_000}` }));
    rows.push(...Array.from({ length: 500 }, (_, i) => ({ k: 2, event_timestamp: T0 + i, item: `x${i % 250}` })));
    const table = tableFromRecords(rows, { dtypes: { k: 'int64', event_timestamp: 'timestamp', item: 'string' } });
    const r = await FeatureRepo.fromDefinitions([
      defineEntity({ name: 'e', joinKeys: ['k'] }),
      defineSource({ name: 's', kind: 'table', table }),
      defineFeatureView({
        name: 'v',
        entities: ['e'],
        source: 's',
        tile: '10s',
        aggregations: [{ column: 'item', function: 'count_distinct', window: 'lifetime', name: 'd' }],
      }),
    ]);
    const out = await r
      .getHistoricalFeatures(
        [
          { k: 1, event_timestamp: new Date(T0 + n) },
          { k: 2, event_timestamp: new Date(T0 + n) },
          { k: 1, event_timestamp: new Date(T0 + 499) },
        ],
        { features: ['v:d'] },
      )
      .toArray();
    expect(Math.abs((out[0].d as number) - 30_000) / 30_000).toBeLessThan(3 * HLL_STD_ERROR);
    expect(out[1].d).toBe(250);
    expect(out[2].d).toBe(500);
  });
});
