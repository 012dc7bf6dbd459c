import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dataset/dataset.js';
import { type SearchQuery, searchDataset } from '../../src/dataset/search/dataset-search.js';
import type { IndexEntry } from '../../src/dataset/search/index-store.js';
import { embed } from '../../src/embed/job.js';
import '../../src/embed/query-embedder.js'; // installs the embedder of image queries, as the package entry does
import { rng } from '../helpers/media.js';
import { imageDataset, sampleImages, tinyModel } from './fixtures/data.js';
import { coreOf } from '../../src/dataset/internal.js';

const DIM = 24;
const N = 3000;
const mem = () => `memory://search-${randomBytes(6).toString('hex')}`;
let ds: Dataset;
let vecs: (Float32Array | null)[];
const LABELS = ['cat', 'dog', 'bird'];

function randomVectors(n: number, seed: number): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: DIM }, () => r() * 2 - 1));
}

/** Float64 brute force: every allowed non-null row scored, sorted best first (ties by row). */
function brute(
  query: ArrayLike<number>,
  metric: 'cosine' | 'l2' | 'dot',
  k: number,
  allowed?: (row: number) => boolean,
): { row: number; score: number }[] {
  const out: { row: number; score: number }[] = [];
  vecs.forEach((v, row) => {
    if (!v || (allowed && !allowed(row))) return;
    let dot = 0,
      qq = 0,
      vv = 0,
      l2 = 0;
    for (let j = 0; j < DIM; j++) {
      dot += v[j] * query[j];
      qq += query[j] ** 2;
      vv += v[j] ** 2;
      l2 += (v[j] - query[j]) ** 2;
    }
    out.push({ row, score: metric === 'dot' ? dot : metric === 'l2' ? Math.sqrt(l2) : dot / Math.sqrt(qq * vv) });
  });
  out.sort((a, b) => (metric === 'l2' ? a.score - b.score : b.score - a.score) || a.row - b.row);
  return out.slice(0, k);
}

function expectSame(got: { row: number; score: number }[], want: { row: number; score: number }[]): void {
  expect(got.map((h) => h.row)).toEqual(want.map((h) => h.row));
  got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 4));
}

beforeAll(async () => {
  vecs = randomVectors(N, 11);
  for (let i = 0; i < N; i += 97) vecs[i] = null;
  ds = await Dataset.create(mem(), {
    schema: { vec: { htype: 'embedding', dim: DIM }, label: 'text' },
    chunkSizeBytes: 32 * 1024,
  });
  await ds.append(vecs.map((vec, i) => ({ vec, label: LABELS[i % 3] })));
  await ds.commit('vectors');
});
afterAll(async () => {
  await ds?.close();
});

describe('ds.search: exact', () => {
  it.each(['cosine', 'l2', 'dot'] as const)('%s equals a float64 brute force', async (metric) => {
    for (const [qi, q] of randomVectors(5, 99).entries()) {
      const got = await ds.search('vec', { vector: q }, { k: 10, metric });
      expectSame(got, brute(q, metric, 10));
      if (qi === 0) expect(got).toHaveLength(10);
    }
  });

  it('filters: mask, row list, match, predicate, and views', async () => {
    const q = randomVectors(1, 5)[0];
    const mask = new Uint8Array(N).map((_, i) => (i % 4 === 0 ? 1 : 0));
    expectSame(
      await ds.search('vec', { vector: q }, { k: 7, filter: mask }),
      brute(q, 'cosine', 7, (r) => r % 4 === 0),
    );
    expectSame(
      await ds.search('vec', { vector: q }, { k: 7, filter: [5, 6, 7, 97, 1000] }),
      brute(q, 'cosine', 7, (r) => [5, 6, 7, 1000].includes(r)),
    );
    expectSame(
      await ds.search('vec', { vector: q }, { k: 7, filter: { label: 'dog' } }),
      brute(q, 'cosine', 7, (r) => r % 3 === 1),
    );
    expectSame(
      await ds.search('vec', { vector: q }, { k: 7, metric: 'l2', filter: (row) => row.label !== 'cat' }),
      brute(q, 'l2', 7, (r) => r % 3 !== 0),
    );
    const view = ds.filter({ label: 'bird' });
    expectSame(
      await view.search('vec', { vector: q }, { k: 5 }),
      brute(q, 'cosine', 5, (r) => r % 3 === 2),
    );
    expectSame(
      await ds.slice(100, 200).search('vec', { vector: q }, { k: 5 }),
      brute(q, 'cosine', 5, (r) => r >= 100 && r < 200),
    );
    await expect(ds.search('vec', { vector: q }, { k: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.search('vec', { vector: [1, 2] }, { k: 3 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'query' },
    });
    await expect(ds.search('label', { vector: q })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('takes only tagged queries: a bare vector, number or string is refused, never guessed', async () => {
    const v = new Float32Array(16);
    for (const bad of [v, 42, 'a cat', { vector: v, row: 1 }, { image: 'x.jpg' }, null]) {
      await expect(ds.search('vec', bad as unknown as SearchQuery)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'query' },
      });
    }
  });

  it("query by row uses that row's vector; version searches an older version", async () => {
    const hits = await ds.search('vec', { row: 42 }, { k: 3 });
    expect(hits[0]).toMatchObject({ row: 42 });
    expect(hits[0].score).toBeCloseTo(1, 6);
    expect(await ds.search('vec', { row: 42 }, { k: 3 })).toEqual(hits);

    const d2 = await Dataset.create(mem(), { schema: { vec: { htype: 'embedding', dim: DIM } } });
    const a = randomVectors(50, 1);
    await d2.append(a.map((vec) => ({ vec })));
    const v1 = await d2.commit();
    await d2.append(randomVectors(50, 2).map((vec) => ({ vec })));
    await d2.commit();
    const old = await d2.search('vec', { vector: a[3] }, { k: 100, version: v1 });
    expect(old).toHaveLength(50);
    expect(old[0].row).toBe(3);
    expect(await d2.search('vec', { vector: a[3] }, { k: 100 })).toHaveLength(100);
  });
});

describe('ds.search with images and an HNSW index', () => {
  it("embeds an image (or a row without a vector) with the column's own lineage model", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-search-img-'));
    try {
      const images = await sampleImages(12, 3);
      const m = await tinyModel(dir, 'tiny', { seed: 21, inputSize: 32, dim: 16 });
      await using ids = await imageDataset(mem(), images);
      await embed(ids, { column: 'image', model: m.path, normalize: true });
      const hits = await ids.search('embedding', { image: images[7] }, { k: 3 });
      expect(hits[0].row).toBe(7);
      expect(hits[0].score).toBeCloseTo(1, 5);
      expect((await ids.search('embedding', { row: 7 }, { k: 3 }))[0].row).toBe(7);
      // bytes-given model: the lineage cannot reload it, the caller passes it (sha256 checked)
      await embed(ids, { column: 'image', model: m.bytes, output: 'e2' });
      await expect(ids.search('e2', { image: images[2] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'model' },
      });
      expect((await ids.search('e2', { image: images[2] }, { model: m.bytes }))[0].row).toBe(2);
      const other = await tinyModel(dir, 'other', { seed: 22, inputSize: 32, dim: 16 });
      await expect(ids.search('e2', { image: images[2] }, { model: other.bytes })).rejects.toMatchObject({
        code: 'CONFLICT',
        details: { field: 'modelSha256' },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('createIndex persists the index with its version; search uses it; a changed column makes it stale (warning, exact)', async () => {
    const d = await Dataset.create(mem(), { schema: { vec: { htype: 'embedding', dim: DIM }, label: 'text' } });
    await d.append(vecs.map((vec, i) => ({ vec, label: LABELS[i % 3] })));
    const built = await d.commit();
    const entry = await d.createIndex('vec', { M: 12, efConstruction: 100, efSearch: 64 });
    expect(entry).toMatchObject({
      kind: 'hnsw',
      metric: 'cosine',
      builtForVersion: built,
      vectors: N - Math.ceil(N / 97),
    });
    expect(d.version).toBe(built + 1);
    expect((d.meta.indexes as Record<string, IndexEntry>).vec).toEqual(entry);
    expect(await coreOf(d).storage.exists(entry.key)).toBe(true);

    const reopened = await Dataset.open(d.uri);
    const queries = randomVectors(20, 77);
    let found = 0;
    for (const q of queries) {
      const r = await searchDataset(reopened, 'vec', { vector: q }, { k: 10 });
      expect(r.plan.method).toBe('hnsw');
      const exact = brute(q, 'cosine', 10);
      found += r.hits.filter((h) => exact.some((e) => e.row === h.row)).length;
      for (const h of r.hits) expect(vecs[h.row]).not.toBeNull();
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
    expect((await searchDataset(reopened, 'vec', { vector: queries[0] }, { k: 5, exact: true })).plan.method).toBe(
      'exact',
    );
    expect((await searchDataset(reopened, 'vec', { vector: queries[0] }, { k: 5, metric: 'l2' })).plan.method).toBe(
      'exact',
    );
    const narrow = await searchDataset(reopened, 'vec', { vector: queries[0] }, { k: 5, filter: [1, 2, 3] });
    expect(narrow.plan.method).toBe('exact');
    const half = await searchDataset(
      reopened,
      'vec',
      { vector: queries[0] },
      { k: 5, filter: { label: ['cat', 'dog'] } },
    );
    expect(half.plan.method).toBe('hnsw');
    for (const h of half.hits) expect(h.row % 3).not.toBe(2);

    // a version after the index that does not touch the column keeps it current
    d.setMeta({ note: 'x' });
    await d.commit();
    expect((await searchDataset(d, 'vec', { vector: queries[0] }, { k: 5 })).plan.method).toBe('hnsw');
    // appending rows changes the column: stale → warning + exact, equal to brute force
    const extra = randomVectors(1, 3)[0];
    await d.append([{ vec: extra, label: 'cat' }]);
    await d.commit();
    const warnings: string[] = [];
    const r = await searchDataset(
      d,
      'vec',
      { vector: extra },
      { k: 10, onWarning: (m, code) => warnings.push(`${code}: ${m}`) },
    );
    expect(r.plan.method).toBe('exact');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/STRATA_STALE_INDEX: .*built for version/);
    vecs.push(extra);
    try {
      expectSame(r.hits, brute(extra, 'cosine', 10));
      expect(r.hits[0].row).toBe(N);
    } finally {
      vecs.pop();
    }
    // the old version still sees its index as current
    expect((await searchDataset(d, 'vec', { vector: queries[0] }, { k: 5, version: built + 1 })).plan.method).toBe(
      'hnsw',
    );
    await d.close();
  });
});
