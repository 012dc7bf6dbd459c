import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import type { EmbeddingLineage } from '../../src/embed/lineage.js';
import { makeVideo } from '../helpers/media.js';
import { sampleImages, tinyModel, type TinyModel } from './fixtures/data.js';

let dir: string;
let model: TinyModel;
const mem = () => `memory://embed-links-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-links-'));
  model = await tinyModel(dir, 'tiny', { seed: 5, inputSize: 32, dim: 8 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A dataset linking to `n` files written under a fresh folder; `remove` rows' files are then deleted. */
async function linkedDataset(
  files: readonly Uint8Array[],
  ext: string,
  target: 'image' | 'video',
  remove: readonly number[],
): Promise<{ ds: Dataset; paths: string[] }> {
  const folder = await mkdtemp(join(dir, 'files-'));
  const paths = files.map((_, i) => join(folder, `f${i}.${ext}`));
  await Promise.all(files.map((f, i) => writeFile(paths[i], f)));
  const ds = await Dataset.create(mem(), { schema: { media: { htype: 'link', target } } });
  await ds.append(paths.map((p) => ({ media: p })));
  await ds.commit('links');
  await Promise.all(remove.map((i) => rm(paths[i])));
  return { ds, paths };
}

describe('embed(): linked files that are gone', () => {
  it('a missing linked image is recorded per row (null); the rest is embedded and a re-run is a no-op', async () => {
    const { ds, paths } = await linkedDataset(await sampleImages(6), 'jpg', 'image', [2]);
    await using _ = ds;
    const s = await embed(ds, { column: 'media', model: model.path, batchSize: 2, commitEveryBatches: 1 });
    expect(s).toMatchObject({ processed: 6, embedded: 5, empty: 0 });
    expect(s.failures).toEqual([{ row: 2, reason: `linked file ${paths[2]} does not exist` }]);
    const got = (await ds.values('embedding')) as (Float32Array | null)[];
    expect(got.map((v) => v === null)).toEqual([false, false, true, false, false, false]);
    expect((ds.columnMeta('embedding').lineage as EmbeddingLineage).failureCount).toBe(1);
    expect(await embed(ds, { column: 'media', model: model.path })).toMatchObject({ noop: true });
  });

  it('strict mode: NOT_FOUND naming the row, column and file; the rows before it stay committed', async () => {
    const { ds, paths } = await linkedDataset(await sampleImages(6), 'jpg', 'image', [3]);
    await using _ = ds;
    await expect(
      embed(ds, { column: 'media', model: model.path, strict: true, batchSize: 2, commitEveryBatches: 1 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', details: { row: 3, column: 'media', file: paths[3] } });
    expect(await ds.storedLength('embedding')).toBe(2);
    // without strict the job gets past the row
    expect(await embed(ds, { column: 'media', model: model.path })).toMatchObject({
      resumedFrom: 2,
      processed: 4,
      failures: [{ row: 3, reason: `linked file ${paths[3]} does not exist` }],
    });
  });

  it('a missing linked video is recorded per row too', async () => {
    const video = await makeVideo({ frames: 12, fps: 12, width: 32, height: 32, format: 'mp4' });
    const { ds, paths } = await linkedDataset([video, video, video], 'mp4', 'video', [1]);
    await using _ = ds;
    const s = await embed(ds, { column: 'media', model: model.path, frames: { count: 2 } });
    expect(s).toMatchObject({ processed: 3, embedded: 2 });
    expect(s.failures).toEqual([{ row: 1, reason: `linked file ${paths[1]} does not exist` }]);
  });
});
