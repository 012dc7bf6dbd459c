/**
 * `strata monitor` against a repo materialized into a real redis-server (see monitor-command.test.ts),
 * and `strata monitor --serve`: the monitoring page and its JSON over the same store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';
import type { MonitorResponse } from '../../src/serve/viewer/monitor-wire.js';
import { checkMonitor } from './fixtures/monitor-check.js';
import { startServer } from './run-cli.js';

let dir: string;
let redis: RedisServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-monitor-redis-'));
  await generateSampleData(join(dir, 'sample'), { images: 4, videos: 0, events: 400 });
  if (!REDIS_SKIP) redis = await RedisServer.start();
}, 60_000);

afterAll(async () => {
  await redis?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(Boolean(REDIS_SKIP))('strata monitor on Redis', () => {
  it('watermarks after materialize and the SLO verdict from a real redis-server', async () => {
    const env = { STRATA_ONLINE_STORE: 'redis', STRATA_REDIS_URL: redis!.url };
    await checkMonitor(dir, 'rd', env, false);
    // --serve: the monitoring page and its JSON from the same store
    const page = await startServer(['monitor', join(dir, 'rd'), '--serve', '--now', '2024-01-05T00:00:00Z'], { env });
    try {
      const html = await (await fetch(`${page.url}/`)).text();
      expect(html).toContain('monitor.js');
      const report = (await (await fetch(`${page.url}/api/monitor`)).json()) as MonitorResponse;
      expect(report.nowMs).toBe(Date.UTC(2024, 0, 5));
      expect(report.views.map((v) => [v.view, v.status])).toEqual([
        ['user_activity', 'breached'],
        ['user_last', 'no_slo'],
      ]);
      expect(report.views[0].lagMs).toBe(report.nowMs - report.views[0].eventWatermarkMs!);
      // materialize recorded a statistics run per view; with no reference the page draws it alone
      expect(new Set(report.features.map((f) => f.view))).toEqual(new Set(['user_activity', 'user_last']));
      for (const f of report.features) {
        expect(f.count).toBeGreaterThan(0);
        expect([f.referenceCount, f.drift, f.drifted]).toEqual([null, null, false]);
      }
    } finally {
      expect((await page.stop()).code).toBe(0);
    }
  }, 120_000);
});
