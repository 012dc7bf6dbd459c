/** `strata monitor` against a repo materialized into a real redis-server (see monitor-command.test.ts). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';
import { checkMonitor } from './fixtures/monitor-check.js';

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
    await checkMonitor(dir, 'rd', { STRATA_ONLINE_STORE: 'redis', STRATA_REDIS_URL: redis!.url }, false);
  }, 120_000);
});
