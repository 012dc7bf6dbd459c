/** Sharded embed() in one process (checks and bookkeeping), and ONNX Runtime execution providers. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import { EmbeddingModel } from '../../src/embed/model.js';
import { sampleImages, tinyModel, type TinyModel } from './fixtures/data.js';

let dir: string;
let images: Uint8Array[];
let model: TinyModel;
let other: TinyModel;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-shard-options-'));
  images = await sampleImages(24, 3);
  model = await tinyModel(dir, 'tiny', { seed: 5, inputSize: 32, dim: 8 });
  other = await tinyModel(dir, 'other', { seed: 9, inputSize: 32, dim: 8 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** images in fragments of 4 rows (fragment k holds rows 4k..4k+3). */
async function fragmented(count = images.length): Promise<Dataset> {
  const ds = await Dataset.create(`memory://shard-options-${n++}`, { schema: { image: 'image', id: 'int32' } });
  for (let at = 0; at < count; at += 4) {
    await ds.append(images.slice(at, at + 4).map((image, k) => ({ image, id: at + k })));
    await ds.commit();
  }
  return ds;
}

const job = { column: 'image', batchSize: 4, inferenceWorker: false } as const;

describe('embed() shards', () => {
  it('3 shards one after another equal one unsharded run; each fills only its fragments; a re-run is a no-op', async () => {
    const whole = await fragmented();
    await embed(whole, { ...job, model: model.path });
    const want = await whole.values('embedding');

    const ds = await fragmented();
    const rows: number[][] = [];
    for (const index of [2, 0, 1]) {
      const before = await ds.values('embedding').catch(() => images.map(() => null));
      const s = await embed(ds, { ...job, model: model.path, shard: { index, count: 3 } });
      expect(s).toMatchObject({ shard: { index, count: 3 }, processed: 8, resumedFrom: 0, noop: false });
      const after = await ds.values('embedding');
      rows.push(after.flatMap((v, r) => (v !== null && before[r] === null ? [r] : [])));
    }
    // shard i filled fragments i, i+3: rows 4i..4i+3 and 4(i+3)..
    expect(rows).toEqual([
      [8, 9, 10, 11, 20, 21, 22, 23],
      [0, 1, 2, 3, 12, 13, 14, 15],
      [4, 5, 6, 7, 16, 17, 18, 19],
    ]);
    expect(await ds.values('embedding')).toEqual(want);
    const lineage = ds.columnMeta('embedding').lineage as { sharded: boolean };
    expect(lineage.sharded).toBe(true);
    expect(await embed(ds, { ...job, model: model.path, shard: { index: 1, count: 3 } })).toMatchObject({
      noop: true,
      resumedFrom: 8,
    });
    // an unsharded run after the shards finds nothing to do, and warns about nothing
    const warnings: string[] = [];
    expect(await embed(ds, { ...job, model: model.path, onWarning: (m) => warnings.push(m) })).toMatchObject({
      noop: true,
      unembedded: 0,
    });
    expect(warnings).toEqual([]);
  });

  it('an unsharded run fills the rows shards left (holes anywhere in the column)', async () => {
    const whole = await fragmented();
    await embed(whole, { ...job, model: model.path });
    const ds = await fragmented();
    await embed(ds, { ...job, model: model.path, shard: { index: 1, count: 2 } });
    const s = await embed(ds, { ...job, model: model.path });
    expect(s).toMatchObject({ processed: 12, embedded: 12 });
    expect(await ds.values('embedding')).toEqual(await whole.values('embedding'));
  });

  it('a shard with another model than the column lineage: CONFLICT naming both models; nothing written', async () => {
    const ds = await fragmented(8);
    await embed(ds, { ...job, model: model.path, shard: { index: 0, count: 2 } });
    const version = ds.version;
    const err = await embed(ds, { ...job, model: other.path, shard: { index: 1, count: 2 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'CONFLICT',
      details: { column: 'embedding', columnModel: model.sha256, jobModel: other.sha256 },
    });
    expect((err as Error).message).toContain(model.sha256);
    expect((err as Error).message).toContain(other.sha256);
    expect(ds.version).toBe(version);
  });

  it('bad shards and text columns: INVALID_ARGUMENT / UNSUPPORTED before anything is written', async () => {
    const ds = await fragmented(4);
    for (const shard of [
      { index: 2, count: 2 },
      { index: 0, count: 0 },
      { index: 0.5, count: 2 },
    ]) {
      await expect(embed(ds, { ...job, model: model.path, shard })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'shard' },
      });
    }
    const text = await Dataset.create(`memory://shard-text-${n++}`, { schema: { caption: 'text' } });
    await text.append([{ caption: 'a' }]);
    await text.commit();
    await expect(
      embed(text, { column: 'caption', model: model.path, shard: { index: 0, count: 2 } }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', details: { field: 'shard' } });
    expect(ds.columns).not.toContain('embedding');
  });
});

describe('executionProviders', () => {
  it("['cpu'] is passed to the session; the summary names the providers used", async () => {
    const ds = await fragmented(8);
    const s = await embed(ds, { ...job, model: model.path, executionProviders: ['cpu'] });
    expect(s.executionProviders).toEqual(['cpu']);
    const m = await EmbeddingModel.load(model.path, { executionProviders: ['cpu'] });
    expect(m.executionProviders).toEqual(['cpu']);
    await m.close();
  });

  it("['cuda', 'cpu'] without CUDA: falls back to cpu with a STRATA_EP_UNAVAILABLE warning naming cuda (inference workers too)", async () => {
    const ds = await fragmented(8);
    const warnings: [string, string][] = [];
    const s = await embed(ds, {
      column: 'image',
      model: model.path,
      inferenceWorkers: 2,
      executionProviders: ['cuda', 'cpu'],
      onWarning: (m, code) => warnings.push([m, code]),
    });
    expect(s.executionProviders).toEqual(['cpu']);
    expect(s.embedded).toBe(8);
    expect(warnings).toHaveLength(1);
    expect(warnings[0][1]).toBe('STRATA_EP_UNAVAILABLE');
    expect(warnings[0][0]).toContain('cuda');
  });

  it("['cuda'] alone without CUDA: UNAVAILABLE naming the provider; an unknown name: INVALID_ARGUMENT", async () => {
    const ds = await fragmented(4);
    await expect(embed(ds, { ...job, model: model.path, executionProviders: ['cuda'] })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { field: 'executionProviders' },
    });
    for (const providers of [['gpu'], [], ['cpu', 'cpu']]) {
      await expect(embed(ds, { ...job, model: model.path, executionProviders: providers })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'executionProviders' },
      });
    }
    expect(ds.columns).not.toContain('embedding');
  });
});
