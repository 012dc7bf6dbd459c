/**
 * `strata materialize --shard i/n` as child processes: P = 4 shards, two processes at a time (each
 * runs two shards one after the other; one chain takes its shard from JOB_COMPLETION_INDEX and
 * STRATA_SHARDS, as a Kubernetes Indexed Job would), leave the online store exactly as one unsharded
 * `strata materialize` does — on SQLite and on a 3-master Redis Cluster.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { RedisOnlineStore, SqliteOnlineStore, watermarkKey, type OnlineStore } from '../../src/online/index.js';
import { REDIS_SKIP, RedisCluster } from '../helpers/redis-server.js';
import { dumpStore } from '../online/stores.js';
import { errorCode, strata } from './run-cli.js';
import { eventRepoYaml, makeEventRepo } from './fixtures/event-repo.js';

const VIEWS = ['user_activity', 'user_last'];
const STATE = VIEWS.map(watermarkKey);
const RANGE = ['--start', '2024-01-01T00:00:00Z', '--end', '2024-01-04T00:00:00Z'];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-shard-mat-'));
  await generateSampleData(join(dir, 'sample'), { images: 4, videos: 0, events: 600 });
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function makeRepo(name: string): Promise<string> {
  return makeEventRepo(join(dir, name), join(dir, 'sample'), eventRepoYaml(name));
}

async function materialize(repo: string, extra: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const r = await strata(['materialize', repo, ...RANGE, '--json', '-q', ...extra], { env });
  expect(r.code, r.stderr).toBe(0);
}

/** Reference run, then 4 shards as two concurrent chains of two; returns both stores' dumps. */
async function compare(
  env: NodeJS.ProcessEnv,
  open: (repo: string, project: string) => Promise<OnlineStore>,
  tag: string,
): Promise<{ want: unknown; got: unknown }> {
  const ref = await makeRepo(`ref_${tag}`);
  const sharded = await makeRepo(`sh_${tag}`);
  await materialize(ref, [], env);
  await Promise.all([
    (async () => {
      await materialize(sharded, ['--shard', '0/4'], env);
      await materialize(sharded, ['--shard', '2/4'], env);
    })(),
    (async () => {
      await materialize(sharded, [], { ...env, JOB_COMPLETION_INDEX: '1', STRATA_SHARDS: '4' });
      await materialize(sharded, [], { ...env, JOB_COMPLETION_INDEX: '3', STRATA_SHARDS: '4' });
    })(),
  ]);
  const a = await open(ref, `ref_${tag}`);
  const b = await open(sharded, `sh_${tag}`);
  try {
    return { want: await dumpStore(a, VIEWS, STATE), got: await dumpStore(b, VIEWS, STATE) };
  } finally {
    await a.close();
    await b.close();
  }
}

describe('strata materialize --shard', () => {
  it('P = 4 shards in two concurrent processes equal one unsharded run (SQLite)', async () => {
    const { want, got } = await compare(
      {},
      (repo) => SqliteOnlineStore.open(join(repo, '.strata', 'online.sqlite')),
      'sqlite',
    );
    expect((want as Record<string, unknown[]>).user_activity.length).toBeGreaterThan(5);
    expect((want as Record<string, unknown>)['state:' + STATE[0]]).toBeDefined();
    expect(got).toEqual(want);
  }, 120_000);

  it.skipIf(Boolean(REDIS_SKIP))(
    'P = 4 shards in two concurrent processes equal one unsharded run (3-master Redis Cluster)',
    async () => {
      await using cluster = await RedisCluster.start(3);
      const { want, got } = await compare(
        { STRATA_ONLINE_STORE: 'redis', STRATA_REDIS_CLUSTER: cluster.urls.join(',') },
        (_repo, project) => RedisOnlineStore.open({ clusterNodes: cluster.urls, project }),
        'cluster',
      );
      expect((want as Record<string, unknown[]>).user_activity.length).toBeGreaterThan(5);
      expect(got).toEqual(want);
    },
    120_000,
  );

  it('a bad shard is a usage error and writes nothing', async () => {
    const repo = await makeRepo('bad');
    for (const args of [
      ['--shard', '4/4'],
      ['--shard', 'x'],
      ['--shards', '4'],
    ]) {
      const r = await strata(['materialize', repo, ...RANGE, ...args]);
      expect(r.code).not.toBe(0);
      expect(errorCode(r.stderr)).toBe('INVALID_ARGUMENT');
    }
    const r = await strata(['materialize', repo, ...RANGE], { env: { JOB_COMPLETION_INDEX: '0' } });
    expect(errorCode(r.stderr)).toBe('INVALID_ARGUMENT');
    expect(existsSync(join(repo, '.strata', 'online.sqlite'))).toBe(false);
  }, 60_000);
});
