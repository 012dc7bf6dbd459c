/**
 * Embedding jobs record statistics of the vectors they write in the output column's metadata,
 * committed with the rows: an unsharded run's equal those computed from the stored column
 * (`ds.statistics`), and two shards run one after another merge to the same statistics as one pass.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import { embeddingStatistics } from '../../src/embed/job-stats.js';
import { sampleImages, tinyModel, type TinyModel } from './fixtures/data.js';

let dir: string;
let images: Uint8Array[];
let model: TinyModel;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-stats-'));
  images = await sampleImages(24, 7);
  model = await tinyModel(dir, 'tiny', { seed: 5, inputSize: 32, dim: 8 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fragmented(): Promise<Dataset> {
  const ds = await Dataset.create(`memory://embed-stats-${n++}`, { schema: { image: 'image', id: 'int32' } });
  for (let at = 0; at < images.length; at += 4) {
    await ds.append(images.slice(at, at + 4).map((image, k) => ({ image, id: at + k })));
    await ds.commit();
  }
  return ds;
}

const job = { column: 'image', batchSize: 4, inferenceWorker: false, commitEveryBatches: 2 } as const;

describe('embedding job statistics', () => {
  it('one run: stored with the rows, equal to statistics of the stored column', async () => {
    const ds = await fragmented();
    await embed(ds, { ...job, model: model.path });
    const recorded = embeddingStatistics(ds, 'embedding')!;
    const scanned = await ds.statistics('embedding');
    const a = recorded.summary();
    const b = scanned.summary();
    expect(a.count).toBe(images.length);
    expect([a.count, a.nulls, a.dim]).toEqual([b.count, b.nulls, b.dim]);
    expect(a.meanNorm).toBeCloseTo(b.meanNorm!, 6);
    expect(a.meanVectorNorm).toBeCloseTo(b.meanVectorNorm!, 6);
    expect(recorded.driftFrom(scanned).mmd2).toBeLessThan(1e-9);
    // reopened: the statistics are part of the committed version
    const again = await Dataset.open(ds.uri);
    expect(embeddingStatistics(again, 'embedding')!.summary().count).toBe(images.length);
  });

  it('two shards merge to the statistics of one pass; statistics: false records none', async () => {
    const whole = await fragmented();
    await embed(whole, { ...job, model: model.path });
    const ds = await fragmented();
    for (const index of [1, 0]) await embed(ds, { ...job, model: model.path, shard: { index, count: 2 } });
    expect(
      Object.keys(ds.columnMeta('embedding'))
        .filter((k) => k.startsWith('statistics'))
        .sort(),
    ).toEqual(['statistics:shard:0/2', 'statistics:shard:1/2']);
    const one = embeddingStatistics(whole, 'embedding')!.toJSON();
    const two = embeddingStatistics(ds, 'embedding')!.toJSON();
    if (one.kind !== 'embedding' || two.kind !== 'embedding') throw new Error('kind');
    expect(two.embedding.count).toBe(one.embedding.count);
    expect(two.embedding.normSketch).toEqual(one.embedding.normSketch);
    two.embedding.sum.forEach((x, i) => expect(x).toBeCloseTo(one.embedding.sum[i], 6));

    const off = await fragmented();
    await embed(off, { ...job, model: model.path, statistics: false });
    expect(embeddingStatistics(off, 'embedding')).toBeUndefined();
  });

  it('a staged job (jobId): the statistics of its shards are published by the job commit and merge to one pass', async () => {
    const whole = await fragmented();
    await embed(whole, { ...job, model: model.path });
    const ds = await fragmented();
    for (const index of [0, 1])
      await embed(ds, { ...job, model: model.path, shard: { index, count: 2 }, jobId: 'stats-job' });
    expect(ds.hasColumn('embedding')).toBe(false);
    await ds.commitJob('stats-job');
    const reopened = await Dataset.open(ds.uri);
    const one = embeddingStatistics(whole, 'embedding')!.toJSON();
    const two = embeddingStatistics(reopened, 'embedding')!.toJSON();
    if (one.kind !== 'embedding' || two.kind !== 'embedding') throw new Error('kind');
    expect(two.embedding.count).toBe(one.embedding.count);
    expect(two.embedding.normSketch).toEqual(one.embedding.normSketch);
    two.embedding.sum.forEach((x, i) => expect(x).toBeCloseTo(one.embedding.sum[i], 6));
  });
});
