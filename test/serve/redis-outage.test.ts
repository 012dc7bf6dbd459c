/** Redis restarted while the feature server runs: 503s while it is down, recovery without a server restart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisOnlineStore } from '../../src/online/index.js';
import { createFeatureServer, type FeatureServer } from '../../src/serve/index.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';
import { FakeRepo } from '../online/fixtures/fake-repo.js';

const suite = REDIS_SKIP ? describe.skip : describe;

suite('feature server on Redis: outage and recovery', () => {
  let redis: RedisServer;
  let store: RedisOnlineStore;
  let server: FeatureServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
    store = await RedisOnlineStore.open({ url: redis.url, project: 'outage' });
    server = await createFeatureServer(new FakeRepo([], { pushSources: { user_events: 'user_stats' } }), store);
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    await redis?.close();
  });

  /** The parts of the server's responses these tests read. */
  interface ResponseJson {
    results: { values: unknown[]; statuses: string[] }[];
    error: { code: string };
  }
  const json = async (r: Response): Promise<ResponseJson> => (await r.json()) as ResponseJson;
  const get = () =>
    fetch(server.url + '/get-online-features', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: ['user_stats:clicks'], entities: { user_id: [1] } }),
    });
  const push = () =>
    fetch(server.url + '/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        push_source_name: 'user_events',
        df: { user_id: [1], event_timestamp: [Date.now()], clicks: [41] },
      }),
    });

  it('503 while Redis is down, 200 again once it is back', async () => {
    expect((await push()).status).toBe(200);
    const ok = await json(await get());
    expect(ok.results[1]).toMatchObject({ values: [41], statuses: ['PRESENT'] });

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const r = await get();
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect((await json(r)).error.code).toBe('UNAVAILABLE');
    }
    expect((await push()).status).toBe(503);
    expect((await fetch(server.url + '/health')).status).toBe(503);
    const metrics = await (await fetch(server.url + '/metrics')).text();
    expect(metrics).toMatch(/strata_online_store_errors_total\{store="redis"\} [1-9]\d*/);
    expect(metrics).toMatch(/strata_http_requests_total\{route="\/get-online-features",method="POST",status="503"\} 3/);

    await redis.start();
    const t0 = Date.now();
    let status = 0;
    while (status !== 200) {
      if (Date.now() - t0 > 20_000) throw new Error('server did not recover');
      status = (await get()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    // The restarted Redis kept no data (no persistence): the key reads NOT_FOUND until pushed again.
    expect((await json(await get())).results[1].statuses).toEqual(['NOT_FOUND']);
    expect((await push()).status).toBe(200);
    expect((await json(await get())).results[1]).toMatchObject({ values: [41], statuses: ['PRESENT'] });
    expect((await fetch(server.url + '/health')).status).toBe(200);
  });
});
