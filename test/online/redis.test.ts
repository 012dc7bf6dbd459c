/** Redis-only behaviour: key layout (Cluster hash tags), key TTL, outage → UNAVAILABLE → recovery. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOnlineFeatures, RedisOnlineStore } from '../../src/online/index.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';
import { FakeRepo } from './fixtures/fake-repo.js';

const suite = REDIS_SKIP ? describe.skip : describe;

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, limitMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await fn();
      if (ok(v)) return v;
    } catch {
      // not yet
    }
    if (Date.now() - t0 > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

suite('Redis online store specifics', () => {
  let server: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.close();
  });

  it('one hash per view and entity key, whole entity key as the hash tag', async () => {
    await using store = await RedisOnlineStore.open({ url: server.url, project: 'layout' });
    await store.write([
      {
        view: 'user_stats',
        entityKey: { user_id: 1 },
        values: { clicks: 3n, emb: Float32Array.from([1, 2]) },
        eventTimestampMs: 1234,
      },
      { view: 'user_item', entityKey: { user_id: 1, item_id: 'a b' }, values: { views: 1 }, eventTimestampMs: 5 },
    ]);
    expect(await raw.keys('layout:*')).toEqual(
      expect.arrayContaining(['layout:user_stats:{user_id=i:1}', 'layout:user_item:{item_id=s:a%20b,user_id=i:1}']),
    );
    expect(await raw.hget('layout:user_stats:{user_id=i:1}', '_ts')).toBe('1234');
    const emb = await raw.hgetBuffer('layout:user_stats:{user_id=i:1}', 'emb');
    expect(emb?.byteLength).toBe(1 + 2 * 4); // tag + raw float32
    expect(await raw.ttl('layout:user_stats:{user_id=i:1}')).toBe(-1);
  });

  it('write time is the `_wt` field; hashes written before it existed read back NaN', async () => {
    await using store = await RedisOnlineStore.open({ url: server.url, project: 'wt' });
    const before = Date.now();
    await store.write([{ view: 'v', entityKey: { id: 1 }, values: { x: 1 }, eventTimestampMs: 10 }]);
    expect(Number(await raw.hget('wt:v:{id=i:1}', '_wt'))).toBeGreaterThanOrEqual(before);
    await raw.hset('wt:v:{id=i:2}', '_ts', '20', 'x', Buffer.from([3, 0, 0, 0, 0, 0, 0, 240, 63]));
    const got = await store.read('v', [{ id: 2 }], { withWriteTime: true });
    expect(got).toEqual([{ values: { x: 1 }, eventTimestampMs: 20, writtenAtMs: Number.NaN }]);
  });

  it('optional key TTL: hashes expire and then read as NOT_FOUND', async () => {
    await using store = await RedisOnlineStore.open({ url: server.url, project: 'ttl', keyTtlMs: 300 });
    const repo = new FakeRepo();
    await store.write([
      { view: 'user_stats', entityKey: { user_id: 1 }, values: { clicks: 1n }, eventTimestampMs: Date.now() },
    ]);
    const pttl = await raw.pttl('ttl:user_stats:{user_id=i:1}');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    const read = () => getOnlineFeatures(repo, store, { features: ['user_stats:clicks'], entities: { user_id: [1] } });
    expect((await read()).column('clicks').statuses).toEqual(['PRESENT']);
    await until(read, (r) => r.column('clicks').statuses[0] === 'NOT_FOUND', 'key expiry');
  });

  it('Redis down → UNAVAILABLE (fast, no hang); back on the same port → works without reopening', async () => {
    const store = await RedisOnlineStore.open({ url: server.url, project: 'outage' });
    try {
      const row = { view: 'v', entityKey: { id: 1 }, values: { x: 1 }, eventTimestampMs: 1 };
      await store.write([row]);
      await server.stop();
      await expect(store.read('v', [{ id: 1 }])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(store.read('v', [{ id: 1 }, { id: 2 }])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(store.write([row])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect((await store.health()).ok).toBe(false);
      await server.start();
      await until(
        () => store.health(),
        (h) => h.ok,
        'reconnect',
      );
      // The restarted server lost its data (no persistence) and its script cache: writes reload the script.
      expect(await store.read('v', [{ id: 1 }])).toEqual([null]);
      await store.write([row]);
      expect(await store.read('v', [{ id: 1 }])).toEqual([{ values: { x: 1 }, eventTimestampMs: 1 }]);
    } finally {
      await store.close();
      if (!server.running) await server.start();
    }
  });

  it('open() against a dead port fails UNAVAILABLE', async () => {
    const dead = await RedisServer.start();
    const url = dead.url;
    await dead.close();
    await expect(RedisOnlineStore.open({ url, connectTimeoutMs: 1000 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
