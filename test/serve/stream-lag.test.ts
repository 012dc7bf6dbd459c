/**
 * Freshness on a JetStream fleet: `/metrics` shows per view how many events the consumers have not
 * applied (from their checkpoints) and how old the newest applied event is while any are pending;
 * the online rows the consumer writes carry their write time, served with `include_write_timestamps`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../src/features/index.js';
import { RedisOnlineStore, StreamConsumer } from '../../src/online/index.js';
import { createFeatureServer, type FeatureServer } from '../../src/serve/index.js';
import { NATS_SKIP, NatsServer } from '../helpers/nats-server.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';

const T0 = Date.UTC(2026, 0, 1);

function repo() {
  return FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['user_id'] }),
    defineSource({
      name: 'tx',
      kind: 'stream',
      transport: 'jetstream',
      stream: 'lagged',
      partitions: 4,
      keyField: 'user_id',
      idField: 'event_id',
      allowedLateness: '1h',
      schema: { user_id: 'int64', amount: 'float64', event_timestamp: 'timestamp', event_id: 'string' },
    }),
    defineFeatureView({
      name: 'user_stats',
      entities: ['user'],
      source: 'tx',
      aggregations: [{ column: 'amount', function: 'sum', window: '1h', name: 'amount_sum_1h' }],
    }),
  ]);
}

function body(from: number, n: number) {
  const ids = Array.from({ length: n }, (_, i) => from + i);
  return {
    push_source_name: 'tx',
    df: {
      user_id: ids.map((i) => i % 5),
      amount: ids.map(() => 1),
      event_timestamp: ids.map((i) => T0 + i * 1000),
      event_id: ids.map((i) => `e${i}`),
    },
  };
}

async function lag(server: FeatureServer): Promise<{ events: number; seconds: number }> {
  const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
  const get = (m: string) =>
    Number(new RegExp(`strata_stream_${m}\\{view="user_stats",source="tx"\\} (\\S+)`).exec(text)?.[1]);
  return { events: get('lag_events'), seconds: get('lag_seconds') };
}

describe.skipIf(Boolean(REDIS_SKIP || NATS_SKIP))('stream lag and write times over JetStream', () => {
  let redis: RedisServer;
  let nats: NatsServer;
  beforeAll(async () => {
    [redis, nats] = await Promise.all([RedisServer.start(), NatsServer.start()]);
  });
  afterAll(async () => {
    await redis?.close();
    await nats?.close();
  });

  it('lag counts unapplied events per view, falls to 0 once consumed; rows carry their write time', async () => {
    const r = await repo();
    const store = await RedisOnlineStore.open({ url: redis.url, project: 'lag' });
    const streams = { redisUrl: redis.url, natsUrl: nats.url };
    const server = await createFeatureServer(r, store, { streams });
    const push = async (from: number, n: number) => {
      const res = await server.app.inject({ method: 'POST', url: '/push', payload: body(from, n) });
      expect(res.statusCode).toBe(200);
    };
    await push(0, 40);
    expect((await lag(server)).events).toBe(40);
    const published = Date.now();
    const consumer = await StreamConsumer.start(r, store, { ...streams, leaseMs: 500, checkpointIntervalMs: 100 });
    for (let i = 0; i < 400 && consumer.applied < 40; i++) await new Promise((res) => setTimeout(res, 25));
    expect(consumer.applied).toBe(40);
    await consumer.close();
    expect(await lag(server)).toEqual({ events: 0, seconds: 0 });

    const got = await server.app.inject({
      method: 'POST',
      url: '/get-online-features',
      payload: {
        features: ['user_stats:amount_sum_1h'],
        entities: { user_id: [0, 4] },
        include_write_timestamps: true,
      },
    });
    const sums = got.json<{ results: { values: unknown[]; write_timestamps: string[] }[] }>().results[1];
    expect(sums.values).toEqual([8, 8]);
    for (const w of sums.write_timestamps) expect(Date.parse(w)).toBeGreaterThanOrEqual(published);

    // more events while no consumer runs: behind by those, and by the age of the newest applied event
    await push(40, 10);
    const before = Date.now();
    const l = await lag(server);
    expect(l.events).toBe(10);
    expect(l.seconds).toBeGreaterThanOrEqual((before - (T0 + 39 * 1000)) / 1000);
    await server.close();
    await store.close();
    await r.close();
  });
});
