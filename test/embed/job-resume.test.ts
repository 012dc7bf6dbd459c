import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import { imageDataset, sampleImages, tinyModel, type TinyModel } from './fixtures/data.js';

const CHILD = fileURLToPath(new URL('./fixtures/embed-child.ts', import.meta.url));
let dir: string;
let images: Uint8Array[];
let model: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-resume-'));
  images = await sampleImages(60, 7);
  model = await tinyModel(dir, 'tiny', { seed: 5, inputSize: 32, dim: 8 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the child until its output column has at least `minRows` committed rows, then SIGKILLs it. */
async function runAndKill(uri: string, minRows: number): Promise<{ killedAt: number; finished: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, uri, model.path, model.sha256, '25'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let killedAt = -1;
  let finished = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'done') finished = true;
    else if (killedAt < 0 && (JSON.parse(line) as { committedRows: number }).committedRows >= minRows) {
      child.kill('SIGKILL');
      killedAt = (JSON.parse(line) as { committedRows: number }).committedRows;
    }
  }
  await exited;
  return { killedAt, finished };
}

/** Row ranges named by the embed commits ("rows a..b"), in version order. */
async function committedRanges(ds: Dataset): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for (const v of await ds.versions()) {
    const m = /rows (\d+)\.\.(\d+)/.exec(v.message ?? '');
    if (m) out.push([Number(m[1]), Number(m[2])]);
  }
  return out;
}

describe('embed(): SIGKILL mid-job and resume', () => {
  it('every row is embedded exactly once and equals an uninterrupted run', async () => {
    const ref = await imageDataset(join(dir, 'ref'), images);
    await embed(ref, { column: 'image', model: model.path, batchSize: 4 });
    const want = await ref.values('embedding');

    const uri = join(dir, 'killed');
    await (await imageDataset(uri, images)).close();
    const { killedAt, finished } = await runAndKill(uri, 12);
    expect(finished).toBe(false);
    const partial = await Dataset.open(uri);
    const done = await partial.storedLength('embedding');
    expect(done).toBeGreaterThanOrEqual(killedAt);
    expect(done).toBeLessThan(images.length);

    const s = await embed(partial, { column: 'image', model: model.path, batchSize: 4 });
    expect(s).toMatchObject({ resumedFrom: done, processed: images.length - done, noop: false });
    expect(await partial.values('embedding')).toEqual(want);
    // commits tile 0..n with no overlap: each row was computed and stored exactly once
    const ranges = (await committedRanges(partial)).filter(([a, b]) => b > a);
    let at = 0;
    for (const [a, b] of ranges) {
      expect(a).toBe(at);
      at = b;
    }
    expect(at).toBe(images.length);
    expect(await embed(partial, { column: 'image', model: model.path })).toMatchObject({ noop: true });
  });
});
