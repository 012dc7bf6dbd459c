/**
 * `/push` to a `kind: stream` source publishes onto the stream instead of keeping state in the server:
 * two server instances each given half of one user's 100 events, one consumer → the online value is
 * the sum of all 100 (with a push source, each replica's own window state holds 50 of them). A bad
 * event rejects the request and publishes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../src/features/index.js';
import { RedisOnlineStore, StreamConsumer } from '../../src/online/index.js';
import { createFeatureServer } from '../../src/serve/index.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';

const T0 = Date.UTC(2026, 0, 1);
const SCHEMA = { user_id: 'int64', amount: 'float64', event_timestamp: 'timestamp', event_id: 'string' } as const;

function repo(kind: 'stream' | 'push') {
  return FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['user_id'] }),
    defineSource({
      name: 'tx',
      kind,
      schema: SCHEMA,
      idField: 'event_id',
      allowedLateness: '1h',
      ...(kind === 'stream' ? { transport: 'redis', stream: 'pushed', partitions: 4, keyField: 'user_id' } : {}),
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
      user_id: ids.map(() => 1),
      amount: ids.map(() => 1),
      event_timestamp: ids.map((i) => T0 + i * 1000),
      event_id: ids.map((i) => `e${i}`),
    },
  };
}

describe.skipIf(Boolean(REDIS_SKIP))('/push on a fleet', () => {
  let redis: RedisServer;
  let dir: string;
  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'strata-push-stream-'));
  });
  afterAll(async () => {
    await redis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('two replicas, 100 events of one user round-robin: amount_sum_1h is 100 (with a push source: 50 per replica)', async () => {
    const store = await RedisOnlineStore.open({ url: redis.url, project: 'fleet' });
    const r = await repo('stream');
    const servers = await Promise.all(
      [0, 1].map(() => createFeatureServer(r, store, { streams: { redisUrl: redis.url } })),
    );
    for (let i = 0; i < 100; i += 10) {
      const res = await servers[(i / 10) % 2].app.inject({ method: 'POST', url: '/push', payload: body(i, 10) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'ok', rows: 10, published: 10 });
    }
    const lagLine = async () =>
      /strata_stream_lag_events\{view="user_stats",source="tx"\} (\d+)/.exec(
        (await servers[0].app.inject({ method: 'GET', url: '/metrics' })).body,
      )?.[1];
    expect(await lagLine()).toBe('100');
    const consumer = await StreamConsumer.start(r, store, { redisUrl: redis.url, leaseMs: 500 });
    let got: unknown;
    for (let i = 0; i < 200; i++) {
      got = (await store.read('user_stats', [{ user_id: 1 }]))[0]?.values.amount_sum_1h;
      if (got === 100) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(got).toBe(100);
    await consumer.close();
    expect(consumer.applied).toBe(100);
    expect(await lagLine()).toBe('0'); // from the checkpoints saved on close
    for (const s of servers) await s.close();

    // the single-process behaviour of push sources, for contrast: each replica keeps its own window state
    const pushStore = await RedisOnlineStore.open({ url: redis.url, project: 'single' });
    const replicas = await Promise.all([repo('push'), repo('push')]);
    const single = await Promise.all(replicas.map((x) => createFeatureServer(x, pushStore)));
    for (let i = 0; i < 100; i += 10)
      await single[(i / 10) % 2].app.inject({ method: 'POST', url: '/push', payload: body(i, 10) });
    expect((await pushStore.read('user_stats', [{ user_id: 1 }]))[0]?.values.amount_sum_1h).toBe(50);
    for (const s of single) await s.close();
    await pushStore.close();
    await store.close();
  });

  it('a bad event is a 400 naming it, and nothing of the request is published', async () => {
    const store = await RedisOnlineStore.open({ url: redis.url, project: 'bad' });
    const r = await repo('stream');
    const server = await createFeatureServer(r, store, { streams: { redisUrl: redis.url } });
    const client = new Redis(redis.url);
    const before = await Promise.all([0, 1, 2, 3].map((p) => client.xlen(`pushed:${p}`)));
    const b = body(1000, 10);
    const res = await server.app.inject({
      method: 'POST',
      url: '/push',
      payload: { ...b, df: { ...b.df, event_timestamp: b.df.event_timestamp.map((t, i) => (i === 7 ? 'later' : t)) } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(await Promise.all([0, 1, 2, 3].map((p) => client.xlen(`pushed:${p}`)))).toEqual(before);
    client.disconnect();
    await server.close();
    await store.close();
  });
});
