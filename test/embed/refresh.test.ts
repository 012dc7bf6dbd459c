import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dataset/dataset.js';
import { staleColumns } from '../../src/dataset/derived/row-lineage.js';
import { embed } from '../../src/embed/job.js';
import { refreshEmbedding } from '../../src/embed/refresh.js';
import type { Progress } from '../../src/progress.js';
import { makeJpeg, makePng } from '../helpers/media.js';
import { maxRelDiff, referenceEmbeddings, tinyModel, type TinyModel } from './fixtures/data.js';

const N = 1000;
let dir: string;
let images: Uint8Array[];
let model: TinyModel;
const mem = () => `memory://refresh-${randomBytes(6).toString('hex')}`;
const small = (seed: number) =>
  seed % 4 === 3 ? makePng({ width: 16, height: 16, seed }) : makeJpeg({ width: 16, height: 16, seed, quality: 90 });
const pre = { size: [16, 16] as [number, number] };
const job = { batchSize: 16, inferenceWorkers: 1, decodeConcurrency: 2 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-refresh-'));
  images = await Promise.all(Array.from({ length: N }, (_, i) => small(i + 1)));
  model = await tinyModel(dir, 'm16', { seed: 7, inputSize: 16, dim: 8 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function embedded(uri: string, imgs: readonly Uint8Array[]): Promise<Dataset> {
  const ds = await Dataset.create(uri, { schema: { image: 'image', id: 'int32' } });
  await ds.append(imgs.map((image, id) => ({ image, id })));
  await ds.commit('images');
  await embed(ds, { column: 'image', model: model.path, preprocess: pre, ...job });
  return ds;
}

/** Vectors of `column` by the `id` column. */
async function byId(ds: Dataset, column = 'embedding'): Promise<Map<number, Float32Array | null>> {
  const ids = (await ds.values('id')) as number[];
  const vs = (await ds.values(column)) as (Float32Array | null)[];
  return new Map(ids.map((id, i) => [id, vs[i]]));
}

describe('refresh of an embedding column (per-row lineage)', () => {
  it('update 10 of 1,000 images: reads say stale, refresh runs the model on exactly those 10', async () => {
    const uri = mem();
    await using ds = await embedded(uri, images);
    expect(ds.columns).toEqual(['image', 'id', 'embedding']);
    expect(await ds.staleRows('embedding')).toEqual([]);
    expect(await ds.values('embedding')).not.toContain(null);

    const changed = [3, 97, 150, 151, 152, 400, 401, 777, 900, 999];
    const fresh = await Promise.all(changed.map((id) => small(5000 + id)));
    for (const [k, id] of changed.entries()) await ds.update({ id }, { image: fresh[k] });

    // stale before: the 10 rows read null and say so; others do not
    const stale = await ds.staleRows('embedding');
    expect(stale).toHaveLength(10);
    const ids = (await ds.values('id')) as number[];
    expect(stale.map((p) => ids[p]).sort((a, b) => a - b)).toEqual(changed);
    const r = await ds.row(stale[0]);
    expect(r.embedding).toBeNull();
    expect(staleColumns(r)).toEqual(['embedding']);
    expect(staleColumns(await ds.row(0))).toEqual([]);
    {
      await using strict = await Dataset.open(uri, { onStale: 'error' });
      await expect(strict.row(stale[0])).rejects.toMatchObject({ code: 'CONFLICT', details: { column: 'embedding' } });
      expect((await strict.row(0)).embedding).toBeInstanceOf(Float32Array);
    }

    const events: Progress[] = [];
    const before = ds.version;
    const s = await ds.refresh('embedding', { onProgress: (p: Progress) => events.push(p) });
    expect(s).toMatchObject({ column: 'embedding', stale: 10, recomputed: 10, cleared: 0, version: before + 1 });
    expect((s as Awaited<ReturnType<typeof refreshEmbedding>>).embed).toMatchObject({ processed: 10, embedded: 10 });
    expect(events.at(-1)).toMatchObject({ done: 10, total: 10 });

    // not stale after, and each vector equals a fresh embedding of the new image
    expect(await ds.staleRows('embedding')).toEqual([]);
    expect(staleColumns(await ds.row(stale[0]))).toEqual([]);
    await using other = await embedded(mem(), fresh);
    const want = [...(await byId(other)).values()];
    const got = await byId(ds);
    const reference = await referenceEmbeddings(fresh, model.weights, pre);
    for (const [k, id] of changed.entries()) {
      expect(maxRelDiff(got.get(id)!, want[k]!)).toBeLessThan(1e-5);
      expect(maxRelDiff(got.get(id)!, reference[k])).toBeLessThan(1e-4);
    }
    // the untouched rows kept their vectors
    await using original = await Dataset.open(uri, { version: before });
    const old = await byId(original);
    for (const id of [0, 1, 2, 4, 500, 998]) expect(got.get(id)).toEqual(old.get(id));

    // nothing stale: a second refresh runs nothing and commits nothing
    const again = await ds.refresh('embedding');
    expect(again).toMatchObject({ stale: 0, recomputed: 0, version: before + 1 });
  });

  it('appended rows are refreshed; an aborted refresh publishes nothing', async () => {
    await using ds = await embedded(mem(), images.slice(0, 40));
    const extra = await Promise.all(Array.from({ length: 5 }, (_, i) => small(9000 + i)));
    await ds.append(extra.map((image, k) => ({ image, id: 40 + k })));
    await ds.commit('more');
    expect(await ds.staleRows('embedding')).toEqual([40, 41, 42, 43, 44]);
    expect(staleColumns(await ds.row(42))).toEqual(['embedding']);

    await ds.update((r) => (r.id as number) < 20, { image: extra[0] });
    expect(await ds.staleRows('embedding')).toHaveLength(25);
    const v = ds.version;
    const ac = new AbortController();
    await expect(
      refreshEmbedding(ds, 'embedding', {
        signal: ac.signal,
        batchSize: 4,
        onProgress: () => ac.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    await ds.refresh({});
    expect(ds.version).toBe(v);
    expect(await ds.staleRows('embedding')).toHaveLength(25);

    const s = await refreshEmbedding(ds, 'embedding', { batchSize: 4 });
    expect(s).toMatchObject({ stale: 25, recomputed: 25, version: v + 1 });
    expect(s.embed.embedded).toBe(25);
    expect(await ds.staleRows('embedding')).toEqual([]);
    const got = await byId(ds);
    const reference = await referenceEmbeddings(extra, model.weights, pre);
    for (let k = 0; k < 5; k++) expect(maxRelDiff(got.get(40 + k)!, reference[k])).toBeLessThan(1e-4);
    expect(maxRelDiff(got.get(7)!, reference[0])).toBeLessThan(1e-4);
  });

  it('a vector written by hand is stale and refresh replaces it', async () => {
    await using ds = await embedded(mem(), images.slice(0, 6));
    await ds.append({ image: images[6], id: 6, embedding: new Float32Array(8).fill(1) });
    await ds.commit('by hand');
    expect(await ds.staleRows('embedding')).toEqual([6]);
    expect((await ds.row(6)).embedding).toBeNull();
    // search never returns the stale vector, even for a query equal to it
    const hits = await ds.search('embedding', { vector: new Float32Array(8).fill(1) }, { k: 7 });
    expect(hits.map((h) => h.row).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const s = await ds.refresh('embedding');
    expect(s).toMatchObject({ stale: 1, recomputed: 1, cleared: 1 });
    const [ref] = await referenceEmbeddings([images[6]], model.weights, pre);
    expect(maxRelDiff((await byId(ds)).get(6)!, ref)).toBeLessThan(1e-4);
  });

  it('a column derived from an embedding goes stale with it and waits for it to be refreshed', async () => {
    await using ds = await embedded(mem(), images.slice(0, 8));
    const norm = (r: Readonly<Record<string, unknown>>) => Math.hypot(...((r.embedding as Float32Array | null) ?? []));
    await ds.derive('norm', norm, { persist: true, inputs: ['embedding'], version: 'norm@1' });
    const fresh = await small(7777);
    await ds.update({ id: 3 }, { image: fresh });
    const pos = (await ds.rowPosition(3))!;
    expect(await ds.staleRows('embedding')).toEqual([pos]);
    expect(await ds.staleRows('norm')).toEqual([pos]);
    expect(staleColumns(await ds.row(pos))).toEqual(['embedding', 'norm']);
    // norm cannot be computed from a stale embedding: it waits
    expect(await ds.refresh('norm')).toMatchObject({ stale: 1, recomputed: 0, waiting: 1 });
    expect(await ds.refresh('embedding')).toMatchObject({ recomputed: 1 });
    expect(await ds.refresh('norm')).toMatchObject({ stale: 1, recomputed: 1, waiting: 0 });
    const row = await ds.row(pos);
    expect(staleColumns(row)).toEqual([]);
    expect(row.norm).toBeCloseTo(Math.hypot(...(row.embedding as Float32Array)), 5);
  });

  it('refuses a model whose sha256 is not the lineage one (CONFLICT)', async () => {
    await using ds = await embedded(mem(), images.slice(0, 4));
    await ds.append({ image: images[4], id: 4 });
    await ds.commit('more');
    const other = await tinyModel(dir, 'other16', { seed: 8, inputSize: 16, dim: 8 });
    await expect(refreshEmbedding(ds, 'embedding', { model: other.path })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await ds.staleRows('embedding')).toEqual([4]);
  });
});
