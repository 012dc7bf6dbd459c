/**
 * The process-wide inference cache (inference-cache.ts): consecutive and concurrent embed() jobs with
 * the same model and settings share one worker pool (real worker threads and ONNX sessions), with
 * the same vectors as a job that starts its own; sessionIdleMs 0 and closeInferenceCache() close it;
 * a process that leaves warm workers behind still ends by itself.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeInferenceCache, inferenceCacheStats } from '../../src/embed/inference-cache.js';
import { WorkerPool } from '../../src/embed/job-infer.js';
import { embed } from '../../src/embed/job.js';
import { imageDataset, sampleImages, tinyModel, type TinyModel } from './fixtures/data.js';

const CHILD = fileURLToPath(new URL('./fixtures/cache-child.ts', import.meta.url));
let dir: string;
let images: Uint8Array[];
let model: TinyModel;
const mem = () => `memory://cache-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-inference-cache-'));
  images = await sampleImages(10, 3);
  model = await tinyModel(dir, 'm', { seed: 3, inputSize: 32, dim: 8 });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await closeInferenceCache();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytesOf = (vs: unknown[]) => vs.map((v) => Buffer.from((v as Float32Array).buffer).toString('hex'));

describe('inference cache', () => {
  it('a second job reuses the first one’s workers (same vectors); sessionIdleMs 0 and closeInferenceCache() close them', async () => {
    const start = vi.spyOn(WorkerPool, 'start');
    await using ds = await imageDataset(mem(), images);
    await embed(ds, { column: 'image', model: model.path, output: 'a', batchSize: 4 });
    expect(inferenceCacheStats()).toEqual({ pools: 1, held: 0 });
    await embed(ds, { column: 'image', model: model.path, output: 'b', batchSize: 4 });
    expect(start).toHaveBeenCalledTimes(1);
    // another setting is another pool
    await embed(ds, { column: 'image', model: model.path, output: 'c', batchSize: 2 });
    expect(start).toHaveBeenCalledTimes(2);
    expect(inferenceCacheStats().pools).toBe(2);
    await closeInferenceCache();
    expect(inferenceCacheStats()).toEqual({ pools: 0, held: 0 });
    await embed(ds, { column: 'image', model: model.path, output: 'd', batchSize: 4, sessionIdleMs: 0 });
    expect(start).toHaveBeenCalledTimes(3);
    expect(inferenceCacheStats().pools).toBe(0);
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((k) => ds.values(k)));
    expect(bytesOf(b)).toEqual(bytesOf(a));
    expect(bytesOf(c)).toEqual(bytesOf(a));
    expect(bytesOf(d)).toEqual(bytesOf(a));
    await expect(
      embed(ds, { column: 'image', model: model.path, output: 'e', sessionIdleMs: -1 }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'sessionIdleMs' } });
  });

  it('two jobs at the same time share one pool', async () => {
    const start = vi.spyOn(WorkerPool, 'start');
    await using x = await imageDataset(mem(), images);
    await using y = await imageDataset(mem(), images.slice(0, 6));
    const [sx, sy] = await Promise.all([
      embed(x, { column: 'image', model: model.path, batchSize: 4 }),
      embed(y, { column: 'image', model: model.path, batchSize: 4 }),
    ]);
    expect([sx.embedded, sy.embedded]).toEqual([10, 6]);
    expect(start).toHaveBeenCalledTimes(1);
    expect(bytesOf(await y.values('embedding'))).toEqual(bytesOf((await x.values('embedding')).slice(0, 6)));
  });

  it('a process that leaves warm workers (10 min idle time) ends by itself', async () => {
    const uri = join(dir, 'child-ds');
    const ds = await imageDataset(uri, images);
    await ds.close();
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, uri, model.path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => p.on('exit', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out.trim())).toEqual({ embedded: [10, 10], starts: 1 });
  });
});
