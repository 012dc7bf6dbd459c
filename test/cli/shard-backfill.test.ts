/**
 * `strata backfill --shard i/n` as child processes: P = 4 shards, two processes at a time (one chain
 * takes its shard from JOB_COMPLETION_INDEX and STRATA_SHARDS), write Parquet files that together
 * hold exactly the tiles of one unsharded `strata backfill`, each entity in its own shard's file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { readParquetFile } from '../../src/features/sources/index.js';
import { shardOfEntity } from '../../src/shard.js';
import { strata } from './run-cli.js';
import { eventRepoYaml, makeEventRepo } from './fixtures/event-repo.js';

type Rec = Record<string, unknown>;
let dir: string;
let repo: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-shard-backfill-'));
  await generateSampleData(join(dir, 'sample'), { images: 4, videos: 0, events: 600 });
  repo = await makeEventRepo(join(dir, 'repo'), join(dir, 'sample'), eventRepoYaml('bf'));
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function backfill(extra: string[], env: NodeJS.ProcessEnv = {}): Promise<{ rows: number; out: string }> {
  const r = await strata(['backfill', repo, '--view', 'user_activity', '--json', '-q', ...extra], { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { rows: number; out: string };
}

async function rows(file: string): Promise<Rec[]> {
  const t = await readParquetFile(file);
  return t.toArray().map((r: { toJSON(): Rec }) => {
    const o = r.toJSON();
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
  });
}

/** Rows in a canonical order (their JSON text), for comparing files written in different orders. */
function canonical(rs: Rec[]): string[] {
  return rs.map((r) => JSON.stringify(r, (_k, v: unknown) => (v instanceof Date ? v.getTime() : v))).sort();
}

describe('strata backfill --shard', () => {
  it('P = 4 shards in two concurrent processes equal one unsharded backfill; each entity in its shard', async () => {
    const whole = await backfill(['--out', join(dir, 'whole.parquet')]);
    expect(whole.rows).toBeGreaterThan(10);
    const out = join(dir, 'tiles-{shard}.parquet');
    const results = (
      await Promise.all([
        (async () => [
          await backfill(['--out', out, '--shard', '0/4']),
          await backfill(['--out', out, '--shard', '2/4']),
        ])(),
        (async () => [
          await backfill(['--out', out], { JOB_COMPLETION_INDEX: '1', STRATA_SHARDS: '4' }),
          await backfill(['--out', out], { JOB_COMPLETION_INDEX: '3', STRATA_SHARDS: '4' }),
        ])(),
      ])
    ).flat();
    expect(results.map((r) => r.out).sort()).toEqual([0, 1, 2, 3].map((i) => join(dir, `tiles-${i}-of-4.parquet`)));
    expect(results.reduce((n, r) => n + r.rows, 0)).toBe(whole.rows);
    const parts: Rec[] = [];
    for (let i = 0; i < 4; i++) {
      const part = await rows(join(dir, `tiles-${i}-of-4.parquet`));
      expect(part.length).toBeGreaterThan(0);
      expect(part.every((r) => shardOfEntity({ user_id: r.user_id }, ['user_id'], 4) === i)).toBe(true);
      parts.push(...part);
    }
    expect(canonical(parts)).toEqual(canonical(await rows(join(dir, 'whole.parquet'))));
  }, 120_000);

  it('a bad --shard or a missing --view is a usage error', async () => {
    const bad = await strata([
      'backfill',
      repo,
      '--view',
      'user_activity',
      '--out',
      join(dir, 'x.parquet'),
      '--shard',
      '4/4',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('INVALID_ARGUMENT');
    expect((await strata(['backfill', repo, '--out', join(dir, 'x.parquet')])).code).toBe(2);
  }, 60_000);
});
