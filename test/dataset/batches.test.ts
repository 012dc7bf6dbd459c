import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import type { Batch } from '../../src/dataset/batches/index.js';
import type { Storage } from '../../src/storage/storage.js';
import { makeJpeg, makePng } from '../helpers/media.js';
import { coreOf } from '../../src/dataset/internal.js';

const N = 45;
let ds: Dataset;
let images: Uint8Array[];
let dir: string;

async function direct(
  bytes: Uint8Array,
  h: number,
  w: number,
  fit: 'cover' | 'contain' | 'fill' = 'cover',
): Promise<Uint8Array> {
  const buf = await sharp(bytes)
    .resize({ width: w, height: h, fit, position: 'centre', background: { r: 0, g: 0, b: 0, alpha: 1 } })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer();
  return new Uint8Array(buf);
}

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

const allIndices = (bs: Batch[]) => bs.flatMap((b) => Array.from(b.indices));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-batches-'));
  images = [];
  for (let i = 0; i < N; i++) {
    const spec = { width: 40 + (i % 4) * 12, height: 30 + (i % 3) * 10, seed: i + 1 };
    images.push(i % 5 === 4 ? await makePng({ ...spec, channels: i % 2 ? 4 : 3 }) : await makeJpeg(spec));
  }
  ds = await Dataset.create(`memory://batches-${Date.now()}`, {
    schema: { image: 'image', label: 'class_label', n: 'int32', file: { htype: 'link', target: 'image' } },
    chunkSizeBytes: 8 * 1024,
  });
  for (let i = 0; i < N; i++) {
    const file = path.join(dir, `img${i}.${i % 5 === 4 ? 'png' : 'jpg'}`);
    await writeFile(file, images[i]);
    await ds.append({ image: images[i], label: ['a', 'b', 'c'][i % 3], n: i, file });
  }
  await ds.commit('rows');
});

afterAll(async () => {
  await ds?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ds.batches', () => {
  it('uint8 NHWC tensors equal a direct sharp decode, with tabular columns alongside', async () => {
    const bs = await collect(
      ds.batches({
        columns: ['image', 'label', 'n'],
        batchSize: 8,
        decode: { image: { size: [24, 32], fit: 'cover' } },
      }),
    );
    expect(bs.map((b) => b.indices.length)).toEqual([8, 8, 8, 8, 8, 5]);
    expect(allIndices(bs)).toEqual(Array.from({ length: N }, (_, i) => i));
    for (const b of bs) {
      const t = b.image as Uint8Array;
      expect(t).toBeInstanceOf(Uint8Array);
      expect(b.shapes.image).toEqual([b.indices.length, 24, 32, 3]);
      for (let j = 0; j < b.indices.length; j++) {
        const i = b.indices[j];
        expect(
          Buffer.compare(
            Buffer.from(t.subarray(j * 24 * 32 * 3, (j + 1) * 24 * 32 * 3)),
            Buffer.from(await direct(images[i], 24, 32)),
          ),
        ).toBe(0);
        expect((b.n as number[])[j]).toBe(i);
        expect((b.label as string[])[j]).toBe(['a', 'b', 'c'][i % 3]);
      }
    }
  });

  it('float32 NCHW normalised with mean/std; links decode like stored images', async () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const bs = await collect(
      ds.head(10).batches({
        columns: ['file'],
        batchSize: 4,
        dtype: 'float32',
        mean,
        std,
        decode: { image: { size: [16, 16], fit: 'fill' } },
      }),
    );
    expect(bs[0].shapes.file).toEqual([4, 3, 16, 16]);
    for (const b of bs) {
      const t = b.file as Float32Array;
      expect(t).toBeInstanceOf(Float32Array);
      for (let j = 0; j < b.indices.length; j++) {
        const px = await direct(images[b.indices[j]], 16, 16, 'fill');
        for (let c = 0; c < 3; c++) {
          for (let p = 0; p < 256; p++) {
            expect(t[j * 768 + c * 256 + p]).toBeCloseTo((px[p * 3 + c] / 255 - mean[c]) / std[c], 5);
          }
        }
      }
    }
  });

  it('uint8 NCHW transposes; dropLast drops the short batch; grey output has one channel', async () => {
    const bs = await collect(
      ds.batches({
        columns: ['image'],
        batchSize: 10,
        dropLast: true,
        layout: 'NCHW',
        decode: { image: { size: [8, 8], channels: 1 } },
      }),
    );
    expect(bs.length).toBe(4);
    expect(bs[0].shapes.image).toEqual([10, 1, 8, 8]);
    const rgb = await collect(
      ds.head(2).batches({ columns: ['image'], batchSize: 2, layout: 'NCHW', decode: { image: { size: [8, 8] } } }),
    );
    const px = await direct(images[1], 8, 8);
    const t = rgb[0].image as Uint8Array;
    for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) expect(t[192 + c * 64 + p]).toBe(px[p * 3 + c]);
  });

  it('shuffle is reproducible with a seed, differs across seeds/epochs, and covers every row once', async () => {
    const run = (seed: number, epoch = 0) =>
      collect(ds.batches({ columns: ['n'], batchSize: 7, shuffle: true, seed, epoch, shuffleBufferRows: 16 })).then(
        allIndices,
      );
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(await run(43)).not.toEqual(a);
    expect(await run(42, 1)).not.toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('shuffles a filtered view: indices are view positions, values follow them', async () => {
    const view = await ds.filter((r) => (r.n as number) % 2 === 0).collect();
    const bs = await collect(view.batches({ columns: ['n'], batchSize: 5, shuffle: true, seed: 1 }));
    const idx = allIndices(bs);
    expect([...idx].sort((x, y) => x - y)).toEqual(Array.from({ length: view.length }, (_, i) => i));
    for (const b of bs) b.indices.forEach((i, j) => expect((b.n as number[])[j]).toBe(i * 2));
  });

  it('shards are disjoint and complete, with and without shuffle', async () => {
    for (const shuffle of [false, true]) {
      const parts = [];
      for (let s = 0; s < 4; s++)
        parts.push(
          allIndices(
            await collect(ds.batches({ columns: ['n'], batchSize: 6, shuffle, seed: 5, shard: s, shards: 4 })),
          ),
        );
      const all = parts.flat();
      expect(new Set(all).size).toBe(all.length);
      expect([...all].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(parts.every((p) => p.length >= 11)).toBe(true);
    }
    await expect(ds.batches({ shard: 4, shards: 4 }).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('abort via signal stops the loader: the pending read rejects ABORTED and no batch follows', async () => {
    const ac = new AbortController();
    const it = ds.batches({
      columns: ['image'],
      batchSize: 4,
      prefetchBatches: 3,
      decode: { image: { size: [32, 32] } },
      signal: ac.signal,
    });
    const first = await it.next();
    expect(first.done).toBe(false);
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await it.next()).done).toBe(true);
    const pre = new AbortController();
    pre.abort();
    await expect(ds.batches({ signal: pre.signal }).next()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('an unshuffled pass reads image chunks whole; a shuffled one reads samples one by one', async () => {
    const stats = coreOf(ds).storage.stats;
    const imageChunks = (await ds.columnStats('image')).chunks;
    const before = { ...stats };
    await collect(ds.batches({ columns: ['image'], batchSize: 8, decode: { image: { size: [8, 8] } } }));
    expect(stats.gets - before.gets).toBe(imageChunks);
    expect(stats.rangeGets - before.rangeGets).toBe(0);
    const mid = { ...stats };
    await collect(ds.batches({ columns: ['image'], batchSize: 8, shuffle: true, decode: { image: { size: [8, 8] } } }));
    expect(stats.gets - mid.gets).toBe(0);
    expect(stats.rangeGets - mid.rangeGets).toBeGreaterThanOrEqual(N);
  });

  it('memory stays bounded by prefetch: a slow consumer holds back reads; abort stops them', async () => {
    // Count sample reads of the image column (ranged reads past the chunk header) through a wrapper.
    const inner = coreOf(ds).storage;
    const imageId = ds.columnInfo('image').id;
    let sampleReads = 0;
    const counting = Object.create(inner, {
      getRange: {
        value: (key: string, offset: number, length: number, o?: { signal?: AbortSignal }) => {
          if (key.startsWith(`chunks/${imageId}/`) && offset > 0) sampleReads++;
          return inner.getRange(key, offset, length, o);
        },
      },
      close: { value: () => Promise.resolve() },
    }) as Storage;
    const view = await Dataset.open(ds.uri, { storage: counting });
    const ac = new AbortController();
    const it = view.batches({
      columns: ['image'],
      batchSize: 4,
      prefetchBatches: 1,
      shuffle: true,
      decode: { image: { size: [8, 8] } },
      signal: ac.signal,
    });
    await it.next();
    await new Promise((r) => setTimeout(r, 300)); // let whatever the loader wants to read, read
    expect(sampleReads).toBeLessThanOrEqual(4 * 2); // the batch handed out + 1 prefetched
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'ABORTED' });
    await new Promise((r) => setTimeout(r, 100));
    expect(sampleReads).toBeLessThanOrEqual(8);
    await view.close();
  });

  it('breaking out early ends the generator cleanly', async () => {
    let n = 0;
    for await (const b of ds.batches({ columns: ['image'], batchSize: 4, decode: { image: { size: [8, 8] } } })) {
      n += b.indices.length;
      if (n >= 8) break;
    }
    expect(n).toBe(8);
  });

  it('rejects bad options with INVALID_ARGUMENT / UNSUPPORTED', async () => {
    await expect(ds.batches({ batchSize: 0 }).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      ds.batches({ decode: { image: { size: [8, 8], fit: 'inside' as 'cover' } } }).next(),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.batches({ decode: { label: { size: [8, 8] } } }).next()).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
    await expect(ds.batches({ mean: [0.5] }).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.batches({ columns: ['nope'] }).next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
