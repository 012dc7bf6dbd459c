import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import { sqlEmbedStats } from '../../src/embed/sql-embed.js';
import { sniffImage } from '../../src/media/image-header.js';
import { decodeImage } from '../../src/media/image.js';
import { damagedJpeg, imageDataset, sampleImages, tinyModel, type TinyModel } from '../embed/fixtures/data.js';

const mem = () => `memory://sql-media-${randomBytes(6).toString('hex')}`;
let dir: string;
let images: Uint8Array[];
let model: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-sql-media-'));
  images = await sampleImages(11);
  images.push(damagedJpeg(images[0]));
  model = await tinyModel(dir, 'rgb', { seed: 3, inputSize: 32, dim: 8 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rows(t: Table): Record<string, unknown>[] {
  return t.toArray().map((r: { toJSON(): Record<string, unknown> }) => r.toJSON());
}
const floats = (v: unknown): number[] => Array.from(v as ArrayLike<number>);
const jsCosine = (a: number[], b: number[]) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => ((d += x * b[i]), (na += x * x), (nb += b[i] * b[i])));
  return d / Math.sqrt(na * nb);
};
const jsL2 = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));

describe('ds.sql: media references and functions', () => {
  it('media columns are references with width, height and format from the info column', async () => {
    await using ds = await imageDataset(mem(), images);
    const t = await ds.sql(
      'SELECT id, _rowid, image.row_id AS rid, image.width AS w, image.height AS h, image.format AS f FROM ds ORDER BY id',
    );
    const ids = await ds.rowIds();
    expect(rows(t)).toEqual(
      images.map((img, i) => {
        const head = sniffImage(img)!;
        return { id: i, _rowid: BigInt(ids[i]), rid: BigInt(ids[i]), w: head.width, h: head.height, f: head.format };
      }),
    );
    const wide = await ds.sql('SELECT count(*)::INT AS n FROM ds WHERE image.width > 50');
    expect(rows(wide)).toEqual([{ n: images.filter((img) => sniffImage(img)!.width > 50).length }]);
  });

  it('decode_image gives the pixels of src/media decodeImage, only for the rows asked', async () => {
    await using ds = await imageDataset(mem(), images);
    const t = await ds.sql('SELECT id, decode_image(image) AS px FROM ds WHERE id IN (1, 4, 11) ORDER BY id');
    const got = rows(t).map((r): Record<string, unknown> => ({
      id: r.id,
      ...(r.px as Record<string, unknown> | null),
    }));
    expect(got.map((r) => r.id)).toEqual([1, 4, 11]);
    for (const r of got.slice(0, 2)) {
      const want = await decodeImage(images[r.id as number], { failOn: 'warning' });
      expect(r).toMatchObject({ width: want.shape[1], height: want.shape[0], channels: want.shape[2] });
      expect(Buffer.from(r.pixels as Uint8Array).equals(Buffer.from(want.data))).toBe(true);
    }
    expect(got[2]).toEqual({ id: 11 }); // the damaged JPEG: NULL
  });

  it('embed() vectors equal the embedding job; cosine and l2 equal JS; vectors are cached', async () => {
    await using ds = await imageDataset(mem(), images);
    await embed(ds, { column: 'image', model: model.path, batchSize: 3 });
    const path = join(dir, `copy-${randomBytes(4).toString('hex')}.onnx`);
    await copyFile(model.path, path);
    const q = `SELECT id, embedding, embed('${path}', image) AS v, cosine(embed('${path}', image), embedding) AS c,
      l2(embedding, [1, 0, 0, 0, 0, 0, 0, 0]::FLOAT[]) AS d FROM ds ORDER BY id`;
    const before = sqlEmbedStats();
    const got = rows(await ds.sql(q));
    expect(sqlEmbedStats().computed - before.computed).toBe(images.length);
    expect(got).toHaveLength(images.length);
    for (const r of got) {
      if (r.embedding === null) {
        expect(r.id).toBe(11);
        expect(r.v).toBeNull();
        continue;
      }
      const want = floats(r.embedding);
      const v = floats(r.v);
      expect(v).toHaveLength(8);
      v.forEach((x, k) => expect(x).toBeCloseTo(want[k], 5));
      expect(r.c).toBeCloseTo(jsCosine(v, want), 5);
      expect(r.d).toBeCloseTo(jsL2(want, [1, 0, 0, 0, 0, 0, 0, 0]), 5);
    }
    // Same model and rows again: answered from the cache, the model runs on no image.
    const mid = sqlEmbedStats();
    const again = rows(await ds.sql(`SELECT id, embed('${path}', image) AS v FROM ds ORDER BY id`));
    expect(again.map((r) => (r.v === null ? null : floats(r.v)))).toEqual(
      got.map((r) => (r.v === null ? null : floats(r.v))),
    );
    expect(sqlEmbedStats().computed).toBe(mid.computed);
    expect(sqlEmbedStats().cached - mid.cached).toBe(images.length);
    await rm(path);
    await expect(ds.sql(`SELECT embed('${path}', image) FROM ds`, { tables: {} })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('SELECT * leaves out columns SQL cannot show; naming one is UNSUPPORTED', async () => {
    await using ds = await Dataset.create(mem(), { schema: { image: 'image', boxes: 'bbox', n: 'int32' } });
    await ds.append({ image: images[0], boxes: [[1, 2, 3, 4]], n: 5 });
    await ds.commit('one');
    const t = await ds.sql('SELECT * FROM ds');
    expect(t.schema.fields.map((f) => f.name)).toEqual(['image', 'n']);
    await expect(ds.sql('SELECT boxes FROM ds')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('cosine and l2 over FLOAT[] equal a JS computation', async () => {
    await using ds = await imageDataset(mem(), images.slice(0, 3));
    const t = rows(
      await ds.sql(
        'SELECT cosine([1, 2, 3]::FLOAT[], [3, -1, 0.5]::FLOAT[]) AS c, l2([1, 2, 3]::FLOAT[], [3, -1, 0.5]::FLOAT[]) AS d',
      ),
    );
    expect(t[0].c).toBeCloseTo(jsCosine([1, 2, 3], [3, -1, 0.5]), 6);
    expect(t[0].d).toBeCloseTo(jsL2([1, 2, 3], [3, -1, 0.5]), 6);
  });
});
