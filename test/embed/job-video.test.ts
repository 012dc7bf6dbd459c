import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tinyConvNetReference } from '../../datasets/models/onnx-builder.js';
import type { VideoCell } from '../../src/dataset/cells.js';
import { Dataset } from '../../src/dataset/dataset.js';
import type { Tensor } from '../../src/dataset/htypes/index.js';
import { embed } from '../../src/embed/job.js';
import type { EmbeddingLineage } from '../../src/embed/lineage.js';
import { resizeForModel } from '../../src/embed/preprocess.js';
import { makeVideo, truncate } from '../helpers/media.js';
import { maxRelDiff, tinyModel, type TinyModel } from './fixtures/data.js';

let dir: string;
let model: TinyModel;
let ds: Dataset;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-video-'));
  model = await tinyModel(dir, 'tiny', { seed: 9, inputSize: 32, dim: 8 });
  const a = await makeVideo({ frames: 24, fps: 12, width: 64, height: 48, format: 'mp4' });
  const b = await makeVideo({ frames: 36, fps: 12, width: 48, height: 48, format: 'mp4' });
  ds = await Dataset.create(`memory://video-${randomBytes(6).toString('hex')}`, { schema: { video: 'video' } });
  await ds.append([{ video: a }, { video: b }, { video: null }]);
  await ds.commit('videos');
});
afterAll(async () => {
  await ds?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Per-frame reference vectors of a video cell: its selected frames through the JS forward pass. */
async function frameVectors(
  cell: VideoCell,
  selection: { count: number } | { everySeconds: number },
): Promise<{ vectors: Float64Array[]; times: number[] }> {
  const frames = await cell.frames(selection);
  const vectors: Float64Array[] = [];
  for (const f of frames) {
    const px = await resizeForModel({ data: f.data, width: f.shape[1], height: f.shape[0], channels: 3 }, { size: 32 });
    const x = new Float64Array(3 * 32 * 32);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 1024; p++) x[c * 1024 + p] = (px[p * 3 + c] / 255 - MEAN[c]) / STD[c];
    vectors.push(tinyConvNetReference(model.weights, x));
  }
  return { vectors, times: frames.map((f) => f.timestampS) };
}

describe('embed(): videos', () => {
  it('decodes only the sampled frames and pools them (mean, max) to one vector per video', async () => {
    const mean = await embed(ds, {
      column: 'video',
      model: model.path,
      frames: { count: 4 },
      output: 'mean',
      batchSize: 3,
    });
    await embed(ds, {
      column: 'video',
      model: model.path,
      frames: { count: 4 },
      pooling: 'max',
      output: 'max',
    });
    expect(mean).toMatchObject({ embedded: 2, empty: 1, failures: [] });
    expect(ds.columnMeta('mean').lineage as EmbeddingLineage).toMatchObject({ frames: { count: 4 }, pooling: 'mean' });
    const cells = (await ds.values('video')) as (VideoCell | null)[];
    const gotMean = (await ds.values('mean')) as (Float32Array | null)[];
    const gotMax = (await ds.values('max')) as (Float32Array | null)[];
    for (const r of [0, 1]) {
      const { vectors } = await frameVectors(cells[r]!, { count: 4 });
      expect(vectors).toHaveLength(4);
      const m = vectors[0].map((_, i) => vectors.reduce((s, v) => s + v[i], 0) / vectors.length);
      const x = vectors[0].map((_, i) => Math.max(...vectors.map((v) => v[i])));
      expect(maxRelDiff(gotMean[r]!, m)).toBeLessThan(1e-4);
      expect(maxRelDiff(gotMax[r]!, x)).toBeLessThan(1e-4);
    }
    expect(gotMean[2]).toBeNull();
  });

  it("pooling 'none' stores [frames, dim] per video plus frame timestamps", async () => {
    const s = await embed(ds, {
      column: 'video',
      model: model.path,
      frames: { everySeconds: 1 },
      pooling: 'none',
      output: 'frames',
    });
    expect(s.lineage).toMatchObject({
      pooling: 'none',
      frames: { everySeconds: 1 },
      timestampsColumn: 'frames_timestamps',
    });
    const got = (await ds.values('frames')) as (Tensor | null)[];
    const times = (await ds.values('frames_timestamps')) as (Tensor | null)[];
    const cells = (await ds.values('video')) as (VideoCell | null)[];
    expect(got[0]!.shape).toEqual([2, 8]); // 2 s at 1 frame/s
    expect(got[1]!.shape).toEqual([3, 8]);
    expect(Array.from(times[1]!.data as Float64Array)).toEqual([0, 1, 2]);
    expect(Array.from(times[0]!.data as Float64Array)).toEqual([0, 1]);
    const ref = await frameVectors(cells[1]!, { everySeconds: 1 });
    for (let f = 0; f < 3; f++)
      expect(maxRelDiff((got[1]!.data as Float32Array).subarray(f * 8, f * 8 + 8), ref.vectors[f])).toBeLessThan(1e-4);
    expect(ref.times).toEqual([0, 1, 2]);
    expect(got[2]).toBeNull();
  });

  it('a video that fails to decode is recorded and stored as null', async () => {
    const good = await makeVideo({ frames: 12, fps: 12, width: 32, height: 32, format: 'mp4' });
    const bad = new Uint8Array(good);
    bad.fill(0, 48, Math.min(bad.length, 2000));
    const vds = await Dataset.create(`memory://video-bad-${randomBytes(6).toString('hex')}`, {
      schema: { video: 'video' },
    });
    try {
      await vds.append([{ video: good }]);
      try {
        await vds.append([{ video: bad }]);
      } catch {
        await vds.append([{ video: truncate(good, Math.floor(good.length * 0.6)) }]);
      }
      await vds.commit();
      const s = await embed(vds, { column: 'video', model: model.path, frames: { count: 3 } });
      expect(s.embedded + s.failures.length).toBe(2);
      expect(s.failures).toHaveLength(1);
      expect(s.failures[0].row).toBe(1);
      expect((await vds.values('embedding'))[1]).toBeNull();
    } finally {
      await vds.close();
    }
  });
});
