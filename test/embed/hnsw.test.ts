import { describe, expect, it } from 'vitest';
import { searchExact, type Metric } from '../../src/dataset/search/exact.js';
import { HnswIndex } from '../../src/dataset/search/hnsw.js';

function randomVectors(n: number, dim: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
  return out;
}

function recallAt10(
  index: HnswIndex,
  v: Float32Array,
  dim: number,
  queries: Float32Array,
  metric: Metric,
  efSearch?: number,
): number {
  const nq = queries.length / dim;
  let hit = 0;
  for (let i = 0; i < nq; i++) {
    const q = queries.subarray(i * dim, (i + 1) * dim);
    const truth = new Set(searchExact(v, dim, q, { k: 10, metric }).map((h) => h.row));
    hit += index.search(q, { k: 10, efSearch }).filter((h) => truth.has(h.row)).length;
  }
  return hit / (nq * 10);
}

describe('HNSW (small)', () => {
  const dim = 24;
  const n = 4000;
  const v = randomVectors(n, dim, 7);
  const queries = randomVectors(50, dim, 8);

  for (const metric of ['cosine', 'l2', 'dot'] as const) {
    it(`${metric}: high recall on 4k × 24-d, scores equal exact scores`, async () => {
      const index = await HnswIndex.build(v, dim, { metric, M: 12, efConstruction: 100, efSearch: 100 });
      expect(index.size).toBe(n);
      expect(recallAt10(index, v, dim, queries, metric)).toBeGreaterThanOrEqual(metric === 'dot' ? 0.9 : 0.97);
      const q = queries.subarray(0, dim);
      const exact = new Map(searchExact(v, dim, q, { k: n, metric }).map((h) => [h.row, h.score]));
      for (const h of index.search(q, { k: 10 })) expect(h.score).toBeCloseTo(exact.get(h.row) as number, 5);
    });
  }

  it('serialize/deserialize round trip: same results, with or without embedded vectors', async () => {
    const index = await HnswIndex.build(v, dim, { metric: 'cosine', M: 8, efConstruction: 64 });
    const bytes = index.serialize();
    const again = HnswIndex.deserialize(bytes);
    const lean = index.serialize({ includeVectors: false });
    expect(lean.length).toBeLessThan(bytes.length - n * dim * 4 + 1);
    const fromLean = HnswIndex.deserialize(lean, { vectors: v });
    // an unaligned copy (e.g. a slice of a larger buffer) must load too
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes, 1);
    const unaligned = HnswIndex.deserialize(padded.subarray(1));
    for (let i = 0; i < 20; i++) {
      const q = queries.subarray(i * dim, (i + 1) * dim);
      const want = index.search(q, { k: 10 });
      expect(again.search(q, { k: 10 })).toEqual(want);
      expect(fromLean.search(q, { k: 10 })).toEqual(want);
      expect(unaligned.search(q, { k: 10 })).toEqual(want);
    }
    expect(Buffer.compare(again.serialize(), bytes)).toBe(0);
    // adding after a round trip continues exactly like the original (levels are seeded)
    const extra = randomVectors(300, dim, 9);
    for (let i = 0; i < 300; i++) {
      index.add(extra.subarray(i * dim, (i + 1) * dim));
      again.add(extra.subarray(i * dim, (i + 1) * dim));
    }
    expect(Buffer.compare(again.serialize(), index.serialize())).toBe(0);
  });

  it('odd dimensions are padded for the SIMD kernels (37-d, incremental adds)', () => {
    const d = 37;
    const w = randomVectors(2000, d, 11);
    const index = HnswIndex.create(d, { metric: 'cosine', M: 12, efConstruction: 80, efSearch: 80 });
    for (let i = 0; i < 2000; i++) expect(index.add(w.subarray(i * d, (i + 1) * d))).toBe(i);
    const qs = randomVectors(30, d, 12);
    expect(recallAt10(index, w, d, qs, 'cosine')).toBeGreaterThanOrEqual(0.97);
  });

  it('is deterministic for a seed', async () => {
    const a = await HnswIndex.build(v.subarray(0, 1000 * dim), dim, { M: 8, seed: 3 });
    const b = await HnswIndex.build(v.subarray(0, 1000 * dim), dim, { M: 8, seed: 3 });
    expect(Buffer.compare(a.serialize(), b.serialize())).toBe(0);
  });

  it('parallel build (2 worker threads): same seeded levels, valid graph, high recall, abortable', async () => {
    const d = 32;
    const w = randomVectors(12_000, d, 21);
    const qs = randomVectors(40, d, 22);
    const options = { metric: 'l2' as const, M: 12, efConstruction: 64, efSearch: 128, seed: 5 };
    const serial = await HnswIndex.build(w, d, options);
    let progress = 0;
    const parallel = await HnswIndex.build(w, d, {
      ...options,
      threads: 2,
      onProgress: () => {
        progress++;
      },
    });
    expect(parallel.size).toBe(12_000);
    expect(progress).toBeGreaterThan(0);
    const levelsOf = (b: Uint8Array) => Buffer.from(b.subarray(64, 64 + 12_000));
    const bytes = parallel.serialize();
    expect(levelsOf(bytes).equals(levelsOf(serial.serialize()))).toBe(true);
    const copy = HnswIndex.deserialize(bytes); // checks every link is in range
    expect(recallAt10(parallel, w, d, qs, 'l2')).toBeGreaterThanOrEqual(0.95);
    expect(copy.search(qs.subarray(0, d), { k: 10 })).toEqual(parallel.search(qs.subarray(0, d), { k: 10 }));
    expect(parallel.add(qs.subarray(0, d))).toBe(12_000); // serial adds continue after a parallel build
    expect(parallel.search(qs.subarray(0, d), { k: 1 })[0]).toMatchObject({ row: 12_000, score: 0 });
    const ac = new AbortController();
    const p = HnswIndex.build(randomVectors(60_000, d, 23), d, { ...options, threads: 2, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('filters results (mask or index list)', async () => {
    const index = await HnswIndex.build(v, dim, { metric: 'l2', M: 12, efConstruction: 100 });
    const mask = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const q = queries.subarray(0, dim);
    const hits = index.search(q, { k: 10, filter: mask, efSearch: 200 });
    expect(hits.length).toBe(10);
    expect(hits.every((h) => h.row % 3 === 0)).toBe(true);
    const truth = searchExact(v, dim, q, { k: 10, metric: 'l2', filter: mask }).map((h) => h.row);
    expect(hits.filter((h) => truth.includes(h.row)).length).toBeGreaterThanOrEqual(9);
    expect(
      index
        .search(q, { k: 5, filter: [10, 20, 30] })
        .map((h) => h.row)
        .sort(),
    ).toEqual([10, 20, 30]);
  });

  it('damaged bytes → CORRUPT; missing vectors → INVALID_ARGUMENT; abort → ABORTED', async () => {
    const index = await HnswIndex.build(v.subarray(0, 500 * dim), dim, { M: 8 });
    const bytes = index.serialize();
    expect(() => HnswIndex.deserialize(bytes.subarray(0, bytes.length - 4))).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }),
    );
    const bad = bytes.slice();
    bad[0] ^= 0xff;
    expect(() => HnswIndex.deserialize(bad)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    const link = bytes.slice();
    new DataView(link.buffer).setInt32(64 + ((500 + 3) & ~3) + 4, 1e6, true); // first link of node 0
    expect(() => HnswIndex.deserialize(link)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => HnswIndex.deserialize(index.serialize({ includeVectors: false }))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const ac = new AbortController();
    ac.abort();
    await expect(HnswIndex.build(v, dim, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(HnswIndex.create(dim).search(queries.subarray(0, dim), { k: 3 })).toEqual([]);
  });
});
