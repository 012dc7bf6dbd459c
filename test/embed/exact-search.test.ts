import { describe, expect, it } from 'vitest';
import {
  ExactIndex,
  keyToScore,
  METRICS,
  scanExact,
  searchExact,
  TopK,
  type Metric,
} from '../../src/dataset/search/exact.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

function randomVectors(n: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * dim }, () => r() * 2 - 1);
}

/** Brute force: score every allowed row in float64, sort best first, ties by row. */
function bruteForce(
  v: Float32Array,
  dim: number,
  q: Float32Array,
  k: number,
  metric: Metric,
  allowed?: (i: number) => boolean,
) {
  const n = v.length / dim;
  const all: { row: number; score: number }[] = [];
  let qq = 0;
  for (let j = 0; j < dim; j++) qq += q[j] * q[j];
  for (let i = 0; i < n; i++) {
    if (allowed && !allowed(i)) continue;
    let dot = 0,
      vv = 0,
      l2 = 0;
    for (let j = 0; j < dim; j++) {
      const x = v[i * dim + j];
      dot += x * q[j];
      vv += x * x;
      l2 += (x - q[j]) ** 2;
    }
    const score = metric === 'dot' ? dot : metric === 'l2' ? Math.sqrt(l2) : vv * qq > 0 ? dot / Math.sqrt(vv * qq) : 0;
    all.push({ row: i, score });
  }
  all.sort((a, b) => (metric === 'l2' ? a.score - b.score : b.score - a.score) || a.row - b.row);
  return all.slice(0, k);
}

function expectSame(got: { row: number; score: number }[], want: { row: number; score: number }[]): void {
  expect(got.map((h) => h.row)).toEqual(want.map((h) => h.row));
  got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 5));
}

describe('exact search equals a brute-force reference', () => {
  const dim = 37; // not a multiple of the unroll width
  const n = 3000;
  const v = randomVectors(n, dim, 1);
  v.fill(0, 5 * dim, 6 * dim); // a zero row (cosine 0 by definition)
  const queries = Array.from({ length: 5 }, (_, i) => randomVectors(1, dim, 100 + i));

  for (const metric of METRICS) {
    it(`${metric}: k = 1, 10, all`, () => {
      for (const q of queries) {
        for (const k of [1, 10, n + 5])
          expectSame(searchExact(v, dim, q, { k, metric }), bruteForce(v, dim, q, k, metric));
      }
    });

    it(`${metric}: mask filter and index-list filter`, () => {
      const mask = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 1 : 0));
      const list = [5, 17, 2999, 40, 41, 42, 1000, 7];
      for (const q of queries) {
        expectSame(
          searchExact(v, dim, q, { k: 10, metric, filter: mask }),
          bruteForce(v, dim, q, 10, metric, (i) => mask[i] === 1),
        );
        const want = bruteForce(v, dim, q, 5, metric, (i) => list.includes(i));
        expectSame(searchExact(v, dim, q, { k: 5, metric, filter: list }), want);
        expectSame(searchExact(v, dim, q, { k: 5, metric, filter: Uint32Array.from(list) }), want);
      }
      expect(searchExact(v, dim, queries[0], { k: 3, metric, filter: [] })).toEqual([]);
    });

    it(`${metric}: chunk-by-chunk scan equals one scan; ExactIndex reuses norms`, () => {
      const q = queries[1];
      const top = new TopK(10);
      for (let start = 0; start < n; start += 700) {
        const end = Math.min(n, start + 700);
        scanExact(v.subarray(start * dim, end * dim), dim, q, top, { metric, rowOffset: start });
      }
      const want = bruteForce(v, dim, q, 10, metric);
      expectSame(top.sorted(keyToScore(metric)), want);
      expectSame(new ExactIndex(v, dim, metric).search(Array.from(q), { k: 10 }), want);
    });
  }

  it('near-ties below float32 resolution are ordered as in float64 (512-d, perturbed duplicates)', () => {
    const d = 512;
    const r = rng(9);
    const protos = randomVectors(20, d, 10);
    const w = new Float32Array(2000 * d);
    for (let i = 0; i < 2000; i++) {
      for (let j = 0; j < d; j++) w[i * d + j] = protos[(i % 20) * d + j] * (1 + (r() - 0.5) * 2e-6);
    }
    const q = protos.subarray(3 * d, 4 * d);
    for (const metric of METRICS) {
      for (const k of [10, 150]) expectSame(searchExact(w, d, q, { k, metric }), bruteForce(w, d, q, k, metric));
    }
  });

  it('ties are broken by the lower row', () => {
    const dup = new Float32Array(4 * 3).fill(1);
    expect(searchExact(dup, 3, [1, 1, 1], { k: 4, metric: 'dot' }).map((h) => h.row)).toEqual([0, 1, 2, 3]);
  });

  it('rejects bad arguments with INVALID_ARGUMENT', () => {
    const bad = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    bad(() => searchExact(v, dim, new Float32Array(dim - 1), { k: 1 }));
    bad(() => searchExact(v, dim, queries[0], { k: 0 }));
    bad(() => searchExact(v, dim, queries[0], { k: 1, metric: 'hamming' as Metric }));
    bad(() => searchExact(v, 7, queries[0], { k: 1 }));
    bad(() => searchExact(v, dim, queries[0], { k: 1, filter: new Uint8Array(3) }));
    bad(() => searchExact(v, dim, queries[0], { k: 1, filter: [n] }));
  });
});
