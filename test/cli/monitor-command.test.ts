/**
 * `strata monitor` as child processes against a YAML repo materialized into the embedded SQLite store:
 * the table and `--json` show each view's event and write watermarks, lag and SLO; the exit code is 3
 * exactly when a declared `freshness` SLO is breached; a bad `freshness` is a definitions error naming
 * the field. `/metrics` of the feature server over the same repo exposes the same freshness gauges.
 * (Redis: monitor-redis.test.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { FeatureRepo } from '../../src/features/index.js';
import { SqliteOnlineStore } from '../../src/online/index.js';
import { createFeatureServer } from '../../src/serve/index.js';
import { strata } from './run-cli.js';
import { makeEventRepo } from './fixtures/event-repo.js';
import { checkMonitor, monitorYaml } from './fixtures/monitor-check.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-monitor-'));
  await generateSampleData(join(dir, 'sample'), { images: 4, videos: 0, events: 400 });
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('strata monitor', () => {
  it('SQLite: watermarks after materialize, exit 3 exactly when the SLO is breached, /metrics gauges', async () => {
    await checkMonitor(dir, 'sq', {}, true);
    const repoDir = join(dir, 'sq');
    const repo = await FeatureRepo.load(repoDir);
    await using store = await SqliteOnlineStore.open(join(repoDir, '.strata', 'online.sqlite'));
    await using server = await createFeatureServer(repo, store);
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    const gauge = (name: string, view: string) =>
      Number(new RegExp(`^${name}\\{view="${view}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const [wm] = await store.watermarks(['user_activity']);
    expect(gauge('strata_feature_event_watermark_seconds', 'user_activity')).toBe(wm.eventTimestampMs / 1000);
    expect(gauge('strata_feature_write_watermark_seconds', 'user_activity')).toBe(wm.writtenAtMs / 1000);
    const lag = gauge('strata_feature_freshness_seconds', 'user_activity');
    expect(lag).toBeGreaterThan((Date.now() - wm.eventTimestampMs) / 1000 - 60);
    expect(lag).toBeLessThanOrEqual((Date.now() - wm.eventTimestampMs) / 1000);
    expect(gauge('strata_feature_freshness_slo_seconds', 'user_activity')).toBe(900);
    expect(gauge('strata_feature_freshness_slo_breached', 'user_activity')).toBe(1);
    expect(text).not.toMatch(/strata_feature_freshness_slo_seconds\{view="user_last"\}/);
    expect(gauge('strata_feature_freshness_seconds', 'user_last')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE strata_feature_freshness_seconds gauge');
  }, 120_000);

  it('a bad freshness is a definitions error naming the field', async () => {
    const repo = await makeEventRepo(join(dir, 'bad'), join(dir, 'sample'), monitorYaml('bad', 'soon'));
    const r = await strata(['monitor', repo, '--json']);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      error: { code: string; problems?: { field: string }[]; message: string };
    };
    expect(err.error.code).toBe('INVALID_ARGUMENT');
    expect(JSON.stringify(err.error)).toContain('freshness');
  }, 60_000);
});
