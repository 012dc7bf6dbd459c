/**
 * Sharded embedding jobs in real processes: shards beside an appender on S3, a SIGKILLed shard
 * re-run, and two shards of different models racing to record the lineage.
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
import { type Backend, startBackend } from '../helpers/backends.js';
import { sampleImages, tinyModel, type TinyModel, embeddingBytes, fragmentedDataset } from './fixtures/data.js';

const CHILD = fileURLToPath(new URL('./fixtures/shard-child.ts', import.meta.url));
const APPENDED = 16;
let s3: Backend;
let local: Backend;
let dir: string;
let images: Uint8Array[];
let model: TinyModel;
let other: TinyModel;

beforeAll(async () => {
  [s3, local] = await Promise.all([startBackend('s3'), startBackend('local')]);
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-shard-'));
  images = await sampleImages(96 + APPENDED, 11);
  await Promise.all(images.map((b, i) => writeFile(join(dir, `${i}.img`), b)));
  model = await tinyModel(dir, 'tiny', { seed: 5, inputSize: 32, dim: 8 });
  other = await tinyModel(dir, 'other', { seed: 6, inputSize: 32, dim: 8 });
}, 60_000);
afterAll(async () => {
  await Promise.all([s3?.stop(), local?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stderr: string;
  readonly lines: string[];
  /** The embed child's last line. */
  readonly result?: { summary: EmbedSummary; modelItems: number };
}

let seq = 0;

/** Spawns the child; `onLine` sees each stdout line (and may kill it); `go()` writes a line to its stdin. */
function child(
  args: string[],
  onLine?: (line: string, kill: () => void) => void,
): Promise<Run> & { go: () => void; seqs: number[] } {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const lines: string[] = [];
  const seqs: number[] = [];
  const read = (async () => {
    for await (const line of createInterface({ input: p.stdout })) {
      lines.push(line);
      seqs.push(++seq);
      onLine?.(line, () => p.kill('SIGKILL'));
    }
  })();
  const done = new Promise<Run>((resolve) =>
    p.on('exit', (code) => {
      void read.then(() => {
        const last = lines.at(-1);
        const result = last?.startsWith('{"summary"') ? (JSON.parse(last) as Run['result']) : undefined;
        resolve({ code, stderr, lines, result });
      });
    }),
  );
  return Object.assign(done, { go: () => p.stdin.write('go\n'), seqs });
}

function embedChild(
  b: Backend,
  uri: string,
  m: TinyModel,
  shard: string,
  delayMs: number,
  onLine?: Parameters<typeof child>[1],
) {
  return child(['embed', uri, JSON.stringify(b.options), m.path, m.sha256, shard, String(delayMs)], onLine);
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
  const r = await embedChild(b, uri, model, 'all', 0);
  expect(r.stderr).toBe('');
  return vectors(b, uri);
}

/** Row ranges named by the commits of one shard ("(shard i/n): rows a..b, c..d"), in version order. */
async function shardRanges(b: Backend, uri: string, label: string): Promise<[number, number][]> {
  const ds = await Dataset.open(uri, b.options);
  const out: [number, number][] = [];
  for (const v of await ds.versions()) {
    if (!v.message?.includes(`(shard ${label})`)) continue;
    for (const m of v.message.matchAll(/(\d+)\.\.(\d+)/g)) out.push([Number(m[1]), Number(m[2])]);
  }
  await ds.close();
  return out;
}

describe('sharded embed() in separate processes', () => {
  it('4 shards + an appender on S3: no CONFLICT, equal to one process; the appended rows are left for the re-run', async () => {
    const uri = s3.uri();
    await fragmented(s3, uri, 96, 4); // 24 fragments: 6 per shard
    let started = 0;
    const appender = child(['append', uri, JSON.stringify(s3.options), dir, '96', String(APPENDED), '4']);
    // 300 ms per model run: the shards' remaining 5 batches leave the appender ~1.5 s to commit beside them
    const shards = [0, 1, 2, 3].map((i) =>
      embedChild(s3, uri, model, `${i}/4`, 300, (line) => {
        // every shard has planned its rows (its first batch is written): now append beside them
        if (line.startsWith('{"phase"') && (JSON.parse(line) as { done: number }).done === 4 && ++started === 4)
          appender.go();
      }),
    );
    const results = await Promise.all(shards);
    const appendRun = await appender;
    for (const r of [...results, appendRun]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    // the appender committed while shards were still committing batches
    expect(appender.seqs[0]).toBeLessThan(Math.max(...shards.map((s) => s.seqs.at(-2)!)));
    const summaries = results.map((r) => r.result!.summary);
    expect(summaries.map((s) => s.processed)).toEqual([24, 24, 24, 24]);
    // each image went through the model once
    for (const r of results) expect(r.result!.modelItems).toBe(r.result!.summary.processed);

    const got = await vectors(s3, uri);
    expect(got).toHaveLength(96 + APPENDED);
    expect(got.slice(96).every((v) => v.length === 0)).toBe(true);
    const rerun = await embedChild(s3, uri, model, 'all', 0);
    expect(rerun.stderr).toBe('');
    expect(rerun.result!.summary).toMatchObject({ processed: APPENDED, embedded: APPENDED });
    expect(rerun.result!.modelItems).toBe(APPENDED);
    const want = await reference(s3, 96 + APPENDED);
    const final = await vectors(s3, uri);
    expect(final.every((v, i) => v.equals(want[i]))).toBe(true);
    expect(final.every((v) => v.length === 32)).toBe(true);
  }, 90_000);

  it('a SIGKILLed shard re-run computes only its missing rows; every row stored once; vacuum keeps the result', async () => {
    const uri = local.uri();
    await fragmented(local, uri, 48, 4); // 12 fragments: 6 per shard
    const killed = await embedChild(local, uri, model, '1/2', 150, (line, kill) => {
      if (line.startsWith('{"phase"') && (JSON.parse(line) as { done: number }).done >= 8) kill();
    });
    expect(killed.code).toBeNull();
    expect(killed.result).toBeUndefined();
    const first = await embedChild(local, uri, model, '0/2', 0);
    expect(first.stderr).toBe('');
    const rerun = await embedChild(local, uri, model, '1/2', 0);
    expect(rerun.stderr).toBe('');
    const s = rerun.result!.summary;
    expect(s.resumedFrom).toBeGreaterThanOrEqual(8);
    expect(s.resumedFrom).toBeLessThan(24);
    expect(s.processed).toBe(24 - s.resumedFrom);
    expect(rerun.result!.modelItems).toBe(s.processed);

    // shard 1's commits (killed run and re-run) tile its 6 fragments' 24 rows, none twice
    const ranges = (await shardRanges(local, uri, '1/2')).sort((a, b) => a[0] - b[0]);
    const rows = ranges.flatMap(([a, b]) => Array.from({ length: b - a }, (_, k) => a + k));
    const want1 = Array.from({ length: 48 }, (_, r) => r).filter((r) => Math.floor(r / 4) % 2 === 1);
    expect(rows).toEqual(want1);

    const want = await reference(local, 48);
    expect((await vectors(local, uri)).every((v, i) => v.equals(want[i]))).toBe(true);
    const ds = await Dataset.open(uri);
    const swept = await ds.vacuum({ retentionMs: -1 });
    expect(swept.chunksDeleted).toBeGreaterThan(0); // the killed run's and replaced fragment files' objects
    expect((await ds.vacuum({ retentionMs: -1, dryRun: true })).chunksDeleted).toBe(0);
    await ds.close();
    expect((await vectors(local, uri)).every((v, i) => v.equals(want[i]))).toBe(true);
    expect((await embedChild(local, uri, model, '1/2', 0)).result!.summary).toMatchObject({ noop: true });
  }, 90_000);

  it('two shards of different models race for a new column: one records the lineage, the other stops with CONFLICT naming both', async () => {
    const uri = local.uri();
    await fragmented(local, uri, 16, 4);
    const [a, b] = await Promise.all([
      embedChild(local, uri, model, '0/2', 0),
      embedChild(local, uri, other, '1/2', 0),
    ]);
    const [won, lost] = a.code === 0 ? [a, b] : [b, a];
    expect(won.code).toBe(0);
    expect(lost.code).not.toBe(0);
    expect(lost.stderr).toContain("code: 'CONFLICT'");
    expect(lost.stderr).toContain(model.sha256);
    expect(lost.stderr).toContain(other.sha256);
    const ds = await Dataset.open(uri);
    const lineage = ds.columnMeta('embedding').lineage as { model: { sha256: string }; sharded: boolean };
    expect(lineage.sharded).toBe(true);
    expect(lineage.model.sha256).toBe(won === a ? model.sha256 : other.sha256);
    // only the winner's fragments were filled
    const values = await ds.values('embedding');
    const filled = values.map((v, r) => (v ? Math.floor(r / 4) % 2 : -1)).filter((x) => x >= 0);
    expect(new Set(filled)).toEqual(new Set([won === a ? 0 : 1]));
    await ds.close();
  }, 90_000);
});
