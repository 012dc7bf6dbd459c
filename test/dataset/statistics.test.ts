/**
 * `ds.statistics(column)` and `strata stats`: the statistics of a dataset column (and of a view) equal
 * those of the same values added directly; a later version with shifted values drifts from a tagged
 * reference, an unchanged one does not; columns without statistics get a typed error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { ColumnStatistics } from '../../src/index.js';
import { strata } from '../cli/run-cli.js';
import { makeJpeg } from '../helpers/media.js';
import { rng } from '../helpers/random.js';

const DIM = 8;
let dir: string;
let uri: string;
const widths: (number | null)[] = [];
const labels: string[] = [];
const vectors: Float32Array[] = [];
let widthsAfter: (number | null)[] = [];

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-statistics-'));
  uri = join(dir, 'ds.strata');
  const r = rng('statistics');
  const ds = await Dataset.create(uri, {
    schema: {
      image: 'image',
      width: 'float64',
      label: { htype: 'class_label' },
      emb: { htype: 'embedding', dim: DIM },
    },
  });
  const img = await makeJpeg({ width: 8, height: 8, seed: 1 });
  const add = async (n: number, shift: number) => {
    const w: (number | null)[] = [];
    const l: string[] = [];
    const e: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      w.push(r() < 0.05 ? null : 100 + shift * 40 + 20 * gauss(r));
      l.push(r() < 0.6 + shift * 0.3 ? 'cat' : r() < 0.5 ? 'dog' : 'bird');
      e.push(Float32Array.from({ length: DIM }, (_, k) => gauss(r) + (k % 2 ? shift * 2 : 0)));
    }
    await ds.extend({ image: Array.from({ length: n }, () => img), width: w, label: l, emb: e });
    return { w, l, e };
  };
  const first = await add(1500, 0);
  widths.push(...first.w);
  labels.push(...first.l);
  vectors.push(...first.e);
  await ds.commit('reference');
  await ds.tag('ref');
  widthsAfter = [...widths, ...(await add(1500, 1)).w];
  await ds.commit('shifted');
  await ds.close();
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ds.statistics', () => {
  it('equals the statistics of the same values, for numbers, labels and embeddings, and of a view', async () => {
    const ds = await Dataset.open(uri, { tag: 'ref' });
    try {
      const w = await ds.statistics('width');
      expect(w.toJSON()).toEqual(ColumnStatistics.create('numeric').addAll(widths).toJSON());
      expect(w.summary().nulls).toBe(widths.filter((x) => x === null).length);
      const l = await ds.statistics('label');
      expect(l.toJSON()).toEqual(ColumnStatistics.create('categorical').addAll(labels).toJSON());
      expect(l.summary().top?.[0].value).toBe('cat');
      const e = await ds.statistics('emb');
      expect(e.summary()).toEqual(ColumnStatistics.create('embedding', { dim: DIM }).addAll(vectors).summary());
      const cats = await ds.filter({ label: 'cat' }).statistics('width');
      const expected = widths.filter((_, i) => labels[i] === 'cat');
      expect(cats.toJSON()).toEqual(ColumnStatistics.create('numeric').addAll(expected).toJSON());
      await expect(ds.statistics('image')).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { column: 'image' },
      });
    } finally {
      await ds.close();
    }
  });

  it('drift from a tagged reference: the shifted version scores high, the reference against itself zero', async () => {
    const ref = await Dataset.open(uri, { tag: 'ref' });
    const cur = await Dataset.open(uri);
    try {
      for (const c of ['width', 'label', 'emb'] as const) {
        const r = await ref.statistics(c);
        const same = (await ref.statistics(c)).driftFrom(r);
        const moved = (await cur.statistics(c)).driftFrom(r);
        expect(same.psi, c).toBeCloseTo(0, 12);
        expect(moved.psi, c).toBeGreaterThan(0.05);
        expect(moved.jsDivergence, c).toBeGreaterThan(same.jsDivergence as number);
        if (c === 'emb') expect(moved.mmd2).toBeGreaterThan(0.01);
      }
      const merged = (await ref.statistics('width')).merge(await cur.slice(1500).statistics('width'));
      expect(merged.summary().count).toBe((await cur.statistics('width')).summary().count);
    } finally {
      await ref.close();
      await cur.close();
    }
  });

  it('strata stats prints the table and drift as JSON', async () => {
    const r = await strata(['stats', uri, '--reference', 'ref', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      columns: { column: string; summary: { kind: string; count: number }; drift: { psi: number } }[];
    };
    expect(out.columns.map((c) => [c.column, c.summary.kind, c.summary.count])).toEqual([
      ['width', 'numeric', widthsAfter.filter((x) => x !== null).length],
      ['label', 'categorical', 3000],
      ['emb', 'embedding', 3000],
    ]);
    expect(out.columns.every((c) => c.drift.psi > 0.05)).toBe(true);
    const t = await strata(['stats', uri, '-c', 'width,label']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout.split('\n')[0].split(/\s+/).slice(0, 4)).toEqual(['column', 'kind', 'count', 'nulls']);
    const bad = await strata(['stats', uri, '-c', 'nope']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('no column nope');
  });
});
