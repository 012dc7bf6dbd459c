/**
 * Two-phase job commits (EmbedOptions.jobId, ds.commitJob, `strata job commit`) with shards in real
 * processes: staged shards are invisible until one commit publishes them all; committing is
 * idempotent; a missing shard is named; a killed shard re-run resumes from the parts it staged and
 * stages once; vacuum keeps a job's
 * staged objects inside the retention window and removes an abandoned job's after it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import type { EmbedSummary } from '../../src/embed/job-options.js';
import { strata } from '../cli/run-cli.js';
import { type Backend, startBackend } from '../helpers/backends.js';
import { sampleImages, tinyModel, type TinyModel, embeddingBytes, fragmentedDataset } from './fixtures/data.js';

const CHILD = fileURLToPath(new URL('./fixtures/shard-child.ts', import.meta.url));
let s3: Backend;
let local: Backend;
let dir: string;
let images: Uint8Array[];
let model: TinyModel;

beforeAll(async () => {
  [s3, local] = await Promise.all([startBackend('s3'), startBackend('local')]);
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-job-'));
  images = await sampleImages(36, 13);
  await Promise.all(images.map((b, i) => writeFile(join(dir, `${i}.img`), b)));
  model = await tinyModel(dir, 'tiny', { seed: 5, inputSize: 32, dim: 8 });
}, 60_000);
afterAll(async () => {
  await Promise.all([s3?.stop(), local?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stderr: string;
  readonly result?: { summary: EmbedSummary; modelItems: number };
}

/** One embed child: shard `shard` ('all' for the whole job), staged under `jobId` when given. */
function embedChild(
  b: Backend,
  uri: string,
  shard: string,
  jobId?: string,
  options: { delayMs?: number; model?: TinyModel; onLine?: (line: string, kill: () => void) => void } = {},
): Promise<Run> {
  const m = options.model ?? model;
  const args = ['embed', uri, JSON.stringify(b.options), m.path, m.sha256, shard, String(options.delayMs ?? 0)];
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args, ...(jobId ? [jobId] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const lines: string[] = [];
  const read = (async () => {
    for await (const line of createInterface({ input: p.stdout })) {
      lines.push(line);
      options.onLine?.(line, () => p.kill('SIGKILL'));
    }
  })();
  return new Promise<Run>((resolve) =>
    p.on('exit', (code) => {
      void read.then(() => {
        const last = lines.at(-1);
        const result = last?.startsWith('{"summary"') ? (JSON.parse(last) as Run['result']) : undefined;
        resolve({ code, stderr, result });
      });
    }),
  );
}

/** A dataset of images[0..n) in fragments of `perFragment` rows (one commit each). */
const fragmented = (b: Backend, uri: string, n: number, perFragment: number) =>
  fragmentedDataset(uri, b.options, images.slice(0, n), perFragment);

/** The embedding column's bytes, row by row (null rows as empty). */
const vectors = (b: Backend, uri: string) => embeddingBytes(uri, b.options);

/** The single-process result on a dataset of the same images (one embed(), one process). */
async function reference(b: Backend, n: number): Promise<Buffer[]> {
  const uri = b.uri();
  await fragmented(b, uri, n, n);
  const r = await embedChild(b, uri, 'all');
  expect(r.stderr).toBe('');
  return vectors(b, uri);
}

/** Keys under the dataset's `_jobs/` (staged entries and commit records). */
async function jobKeys(b: Backend, uri: string): Promise<string[]> {
  const storage = await b.open(uri);
  const keys = await storage.list('_jobs/');
  await storage.close();
  return keys;
}

async function latestVersion(b: Backend, uri: string): Promise<number> {
  const ds = await Dataset.open(uri, b.options);
  const v = ds.version;
  await ds.close();
  return v;
}

describe('two-phase job commit of sharded embed()', () => {
  it('3 shards staged on S3 in separate processes, then one commit: one new version equal to one process; a second commit is a no-op', async () => {
    const uri = s3.uri();
    await fragmented(s3, uri, 36, 4); // 9 fragments: 3 per shard
    const runs = await Promise.all([0, 1, 2].map((i) => embedChild(s3, uri, `${i}/3`, 'nightly-1')));
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.result!.summary.staged).toBe('staged');
      expect(r.result!.summary.processed).toBe(12);
    }
    // nothing staged is visible, not even the column: its lineage is staged with the shards' outputs
    const before = await latestVersion(s3, uri);
    expect(before).toBe(9);
    const peek = await Dataset.open(uri, s3.options);
    expect(peek.hasColumn('embedding')).toBe(false);
    await peek.close();
    // inside the retention window, vacuum keeps the staged objects
    const ds = await Dataset.open(uri, s3.options);
    await ds.vacuum();
    const r = await ds.commitJob('nightly-1');
    expect(r).toMatchObject({ jobId: 'nightly-1', version: before + 1, shards: [0, 1, 2], count: 3 });
    expect(r.alreadyCommitted).toBe(false);
    expect(ds.version).toBe(before + 1);
    const again = await ds.commitJob('nightly-1');
    expect(again).toMatchObject({ version: before + 1, alreadyCommitted: true });
    await ds.close();
    expect(await latestVersion(s3, uri)).toBe(before + 1);

    const want = await reference(s3, 36);
    const got = await vectors(s3, uri);
    expect(got.every((v) => v.length === 32)).toBe(true);
    expect(got.every((v, i) => v.equals(want[i]))).toBe(true);
    const published = await Dataset.open(uri, s3.options);
    expect(published.columnMeta('embedding').lineage).toMatchObject({ sharded: true, model: { sha256: model.sha256 } });
    await published.close();
  }, 120_000);

  it('a shard of the job with another model stops with CONFLICT naming both models; the job publishes one model', async () => {
    const uri = local.uri();
    await fragmented(local, uri, 16, 4);
    expect((await embedChild(local, uri, '0/2', 'mixed')).result!.summary.staged).toBe('staged');
    const other = await tinyModel(dir, 'other', { seed: 6, inputSize: 32, dim: 8 });
    const r = await embedChild(local, uri, '1/2', 'mixed', { model: other });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('CONFLICT');
    expect(r.stderr).toContain(other.sha256);
    expect(r.stderr).toContain(model.sha256);
    expect(await jobKeys(local, uri)).toEqual(['_jobs/mixed/0-of-2.json']);
    const ds = await Dataset.open(uri);
    await ds.commitJob('mixed', { allowPartial: true });
    expect(ds.columnMeta('embedding').lineage).toMatchObject({ model: { sha256: model.sha256 } });
    await ds.close();
  }, 90_000);

  it('a missing shard is named; a killed shard re-run stages once; `strata job commit` publishes; vacuum then removes the leftovers', async () => {
    const uri = local.uri();
    await fragmented(local, uri, 24, 4); // 6 fragments: 2 per shard
    expect((await embedChild(local, uri, '0/3', 'j2')).result!.summary.staged).toBe('staged');
    const killed = await embedChild(local, uri, '1/3', 'j2', {
      delayMs: 150,
      onLine: (line, kill) => {
        // killed once it has staged a part (a batch of 4 rows)
        if (line.startsWith('{"phase"') && (JSON.parse(line) as { committedRows: number }).committedRows >= 4) kill();
      },
    });
    expect(killed.code).toBeNull();
    const ds = await Dataset.open(uri);
    await expect(ds.commitJob('j2')).rejects.toMatchObject({ code: 'NOT_FOUND', details: { missing: [1, 2] } });
    await ds.close();

    const rerun = await embedChild(local, uri, '1/3', 'j2');
    expect(rerun.stderr).toBe('');
    expect(rerun.result!.summary.staged).toBe('staged');
    // the re-run resumes from the parts the killed run staged: no row goes through the model twice
    const resumed = rerun.result!.summary.resumedFrom;
    expect(resumed).toBeGreaterThanOrEqual(4);
    expect(rerun.result!.modelItems).toBe(8 - resumed);
    const third = await embedChild(local, uri, '1/3', 'j2');
    expect(third.result!.summary.staged).toBe('exists');
    expect(third.result!.modelItems).toBe(0);
    expect((await embedChild(local, uri, '2/3', 'j2')).result!.summary.staged).toBe('staged');

    const before = await latestVersion(local, uri);
    const cli = await strata(['job', 'commit', uri, 'j2']);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`3 of 3 shards published as version ${before + 1}`);
    const twice = await strata(['job', 'commit', uri, 'j2', '--json']);
    expect(twice.code).toBe(0);
    expect(JSON.parse(twice.stdout)).toMatchObject({ version: before + 1, alreadyCommitted: true });
    expect(await latestVersion(local, uri)).toBe(before + 1);

    const want = await reference(local, 24);
    expect((await vectors(local, uri)).every((v, i) => v.length === 32 && v.equals(want[i]))).toBe(true);
    const after = await Dataset.open(uri);
    const swept = await after.vacuum({ retentionMs: -1 });
    // the killed run's objects past its last part, if it wrote any (its parts are in the version)
    expect(swept.chunksDeleted).toBeGreaterThanOrEqual(0);
    await after.close();
    expect(await jobKeys(local, uri)).toEqual([]);
    expect((await vectors(local, uri)).every((v, i) => v.equals(want[i]))).toBe(true);
  }, 120_000);

  it('an abandoned job: its staged objects stay within the retention window and are removed after it', async () => {
    const uri = local.uri();
    await fragmented(local, uri, 8, 4);
    expect((await embedChild(local, uri, '0/2', 'abandoned')).result!.summary.staged).toBe('staged');
    const ds = await Dataset.open(uri);
    expect((await ds.vacuum({ dryRun: true })).chunksDeleted).toBe(0);
    expect(await jobKeys(local, uri)).toEqual(['_jobs/abandoned/0-of-2.json']);
    const swept = await ds.vacuum({ retentionMs: -1 });
    expect(swept.chunksDeleted).toBeGreaterThan(0);
    expect(await jobKeys(local, uri)).toEqual([]);
    await expect(ds.commitJob('abandoned', { allowPartial: true })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(ds.hasColumn('embedding')).toBe(false);
    await ds.close();
  }, 90_000);
});
