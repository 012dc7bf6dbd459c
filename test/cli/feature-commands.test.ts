/** apply → materialize → serve on a YAML feature repository over the sample event log, as child processes. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { REDIS_SKIP, startRedisServer } from '../helpers/redis-server.js';
import { errorCode, startServer, strata } from './run-cli.js';
import { eventRepoYaml, makeEventRepo } from './fixtures/event-repo.js';

const REPO_YAML = eventRepoYaml('shop', { service: true });

let dir: string;
let repo: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-features-'));
  await generateSampleData(join(dir, 'sample'), { images: 6, videos: 0, events: 400 });
  repo = await makeEventRepo(join(dir, 'repo'), join(dir, 'sample'), REPO_YAML);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('feature repository commands', () => {
  it('apply validates and registers definitions; a second apply changes nothing', async () => {
    const r = await strata(['apply', repo, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { views: { name: string }[] };
    expect(out).toMatchObject({ version: 1, changed: true, services: ['ranker'] });
    expect(out.views.map((v: { name: string }) => v.name).sort()).toEqual(['user_activity', 'user_last']);
    const again = await strata(['apply'], { cwd: repo });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no changes');
  });

  it('apply of an invalid definition names the file and line, exit 1, nothing applied', async () => {
    const bad = await makeEventRepo(
      join(dir, 'bad-repo'),
      join(dir, 'sample'),
      REPO_YAML.replace('function: count', 'function: countt'),
    );
    const r = await strata(['apply', bad]);
    expect(r.code).toBe(1);
    expect(errorCode(r.stderr)).toBe('INVALID_ARGUMENT');
    expect(r.stderr).toContain('strata.yaml');
    const missing = await strata(['apply', join(dir, 'no-repo')]);
    expect(missing.code).toBe(1);
    expect(errorCode(missing.stderr)).toBe('NOT_FOUND');
  });

  it('materialize loads the online store (JSON per view); usage errors exit 2', async () => {
    const r = await strata([
      'materialize',
      repo,
      '--start',
      '2024-01-01T00:00:00Z',
      '--end',
      '2024-01-04T00:00:00Z',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { store: string; views: { view: string; written: number }[] };
    expect(out.store).toBe('sqlite');
    expect(out.views.map((v: { view: string }) => v.view).sort()).toEqual(['user_activity', 'user_last']);
    expect(out.views.every((v: { written: number }) => v.written > 0)).toBe(true);
    expect(r.stderr).toContain('materialize');
    const again = JSON.parse(
      (await strata(['materialize', repo, '--incremental', '--end', '2024-01-04T00:00:00Z', '--json'])).stdout,
    ) as { views: { written: number }[] };
    expect(again.views.every((v: { written: number }) => v.written === 0)).toBe(true);
    expect((await strata(['materialize', repo, '--end', '2024-01-04'])).code).toBe(2);
    expect((await strata(['materialize', repo, '--start', 'yesterday-ish', '--end', '2024-01-04'])).code).toBe(2);
    expect(
      (await strata(['materialize', repo, '--start', '2024-01-01', '--end', '2024-01-04', '--store', 'mongo'])).code,
    ).toBe(2);
  });

  it('serve answers Feast get-online-features and stops cleanly on SIGTERM', async () => {
    const server = await startServer(['serve', repo, '--port', '0']);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const res = await fetch(`${server.url}/get-online-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feature_service: 'ranker', entities: { user_id: ['u001', 'nobody'] } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      metadata: { feature_names: string[] };
      results: { values: unknown[]; statuses: string[] }[];
    };
    expect(body.metadata.feature_names).toEqual(['user_id', 'events_1h', 'spend_1d', 'event_type']);
    expect(body.results[3].statuses).toEqual(['PRESENT', 'NOT_FOUND']);
    const done = await server.stop();
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('stopped');
  });

  it('serve on a port in use is one error line', async () => {
    const first = await startServer(['serve', repo, '--port', '0']);
    const port = new URL(first.url).port;
    const second = await strata(['serve', repo, '--port', port]);
    await first.stop();
    expect(second.code).toBe(1);
    expect(errorCode(second.stderr)).toBe('CONFLICT');
  });

  it.skipIf(Boolean(REDIS_SKIP))(
    'materialize and serve on Redis (--store redis, URL from the environment)',
    async () => {
      await using redis = await startRedisServer();
      const env = { STRATA_ONLINE_STORE: 'redis', STRATA_REDIS_URL: redis.url };
      const m = await strata(['materialize', repo, '--start', '2024-01-01', '--end', '2024-01-04', '--json', '-q'], {
        env,
      });
      expect(m.code, m.stderr).toBe(0);
      expect((JSON.parse(m.stdout) as { store: string }).store).toBe('redis');
      const server = await startServer(['serve', repo, '--port', '0'], { env });
      const res = await fetch(`${server.url}/get-online-features`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ features: ['user_activity:events_1h'], entities: { user_id: ['u001'] } }),
      });
      const body = (await res.json()) as { results: { statuses: string[] }[] };
      expect(body.results[1].statuses).toEqual(['PRESENT']);
      expect((await server.stop()).code).toBe(0);
    },
  );
});
