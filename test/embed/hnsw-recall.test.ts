import { describe, expect, it } from 'vitest';
import { searchExact } from '../../src/dataset/search/exact.js';
import { HnswIndex } from '../../src/dataset/search/hnsw.js';

/**
 * Acceptance: ANN recall@10 >= 0.95 vs exact on 100k uniform random 128-d vectors. Uniform random
 * data has no low-dimensional structure, the hardest case for graph indexes, hence M = 32 and a
 * large efSearch. The build costs ~50-80 s of CPU (cache-miss bound), split over 2 worker threads;
 * the serial deterministic build is covered in hnsw.test.ts. bench/embed-parts.ts measures it.
 */
describe('HNSW recall on 100k × 128-d random vectors', () => {
  it('recall@10 >= 0.95 against exact search', { timeout: 600_000 }, async () => {
    const n = 100_000;
    const dim = 128;
    let s = 12345;
    const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
    const v = new Float32Array(n * dim);
    for (let i = 0; i < v.length; i++) v[i] = rnd();
    const nq = 100;
    const queries = new Float32Array(nq * dim);
    for (let i = 0; i < queries.length; i++) queries[i] = rnd();

    let progressCalls = 0;
    const index = await HnswIndex.build(v, dim, {
      metric: 'l2',
      M: 32,
      efConstruction: 100,
      efSearch: 800,
      threads: 2,
      onProgress: () => {
        progressCalls++;
      },
    });
    expect(index.size).toBe(n);
    expect(progressCalls).toBeGreaterThan(0);

    let hits = 0;
    for (let i = 0; i < nq; i++) {
      const q = queries.subarray(i * dim, (i + 1) * dim);
      const truth = new Set(searchExact(v, dim, q, { k: 10, metric: 'l2' }).map((h) => h.row));
      hits += index.search(q, { k: 10 }).filter((h) => truth.has(h.row)).length;
    }
    const recall = hits / (nq * 10);
    console.log(`HNSW 100k × 128 (M 32, efConstruction 100, efSearch 800): recall@10 = ${recall}`);
    expect(recall).toBeGreaterThanOrEqual(0.95);

    // the persisted form answers identically
    const copy = HnswIndex.deserialize(index.serialize({ includeVectors: false }), { vectors: v });
    for (let i = 0; i < 5; i++) {
      const q = queries.subarray(i * dim, (i + 1) * dim);
      expect(copy.search(q, { k: 10 })).toEqual(index.search(q, { k: 10 }));
    }
  });
});
