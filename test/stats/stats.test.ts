/**
 * Column statistics against DuckDB on random data: exact counts, nulls, min/max, mean and stddev;
 * quantiles within DDSketch's documented relative error of DuckDB's `quantile_cont`; distinct counts
 * within HLL's error; frequent items equal to GROUP BY counts. Sketches of shards merge to exactly
 * the sketch of one pass. Drift scores: PSI and Jensen–Shannon equal the same formulas over the
 * exact bins DuckDB computes; embeddings' MMD and mean shift separate a shifted column from a resample.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DDSKETCH_RELATIVE_ACCURACY,
  FREQUENT_CAPACITY,
  HLL_STD_ERROR,
  SUMMARY_QUANTILES,
  addValue,
  addValues,
  columnStatsFromJson,
  columnStatsToJson,
  drift,
  jsDivergence,
  mergeColumnStats,
  newColumnStats,
  psi,
  sketchQuantile,
  summarize,
  type ColumnStatsState,
} from '../../src/stats/index.js';
import { rng } from '../helpers/random.js';

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Four shapes: normal, log-normal (wide range), mixed sign with heavy tails, small integers. */
function numbers(seed: number, n: number): (number | null)[] {
  const r = rng(seed);
  const shape = seed % 4;
  return Array.from({ length: n }, () => {
    if (r() < 0.05) return null;
    const z = normal(r);
    if (shape === 0) return 100 + 15 * z;
    if (shape === 1) return Math.exp(2 * z);
    if (shape === 2) return z / (0.05 + r());
    return Math.floor(r() * 50);
  });
}

let db: DuckDBInstance;
let con: DuckDBConnection;

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  con = await db.connect();
});
afterAll(() => {
  con?.closeSync();
  db?.closeSync();
});

async function loadNumbers(name: string, xs: readonly (number | null)[]): Promise<void> {
  await con.run(`CREATE OR REPLACE TABLE ${name} (x DOUBLE)`);
  const app = await con.createAppender(name);
  for (const x of xs) {
    if (x === null) app.appendNull();
    else app.appendDouble(x);
    app.endRow();
  }
  app.closeSync();
}

async function one(sql: string): Promise<Record<string, unknown>> {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJS()[0];
}

function numericStats(xs: readonly (number | null)[]): ColumnStatsState {
  const s = newColumnStats('numeric');
  addValues(s, xs);
  return s;
}

describe('numeric statistics equal DuckDB', () => {
  for (const seed of [11, 12, 13, 14, 15, 16, 17, 18]) {
    it(`seed ${seed}`, async () => {
      const xs = numbers(seed, 20_000);
      await loadNumbers('t', xs);
      const qs = SUMMARY_QUANTILES.map((q) => `quantile_cont(x, ${q}) AS "q${q}"`).join(', ');
      const lohi = SUMMARY_QUANTILES.map(
        (q) => `'lo${q}': l[floor(${q} * (n - 1))::INT + 1], 'hi${q}': l[ceil(${q} * (n - 1))::INT + 1]`,
      );
      const d = await one(
        `WITH s AS (SELECT list_sort(list(x)) AS l, count(x) AS n FROM t)
         SELECT count(x) AS n, count(*) - count(x) AS nulls, min(x) AS mn, max(x) AS mx, avg(x) AS mean,
                stddev_samp(x) AS sd, count(DISTINCT x) AS nd, ${qs}, (SELECT {${lohi.join(', ')}} FROM s) AS b FROM t`,
      );
      Object.assign(d, d.b as Record<string, unknown>);
      const s = summarize(numericStats(xs));
      expect(s.count).toBe(Number(d.n));
      expect(s.nulls).toBe(Number(d.nulls));
      expect(s.min).toBe(d.mn);
      expect(s.max).toBe(d.mx);
      expect(s.mean).toBeCloseTo(d.mean as number, 9);
      expect(Math.abs((s.stddev as number) - (d.sd as number))).toBeLessThanOrEqual(1e-9 * (d.sd as number));
      expect(Math.abs((s.distinct as number) - Number(d.nd))).toBeLessThanOrEqual(3 * HLL_STD_ERROR * Number(d.nd) + 1);
      for (const q of SUMMARY_QUANTILES) {
        const est = s.quantiles?.[String(q)] as number;
        const lo = d[`lo${q}`] as number;
        const hi = d[`hi${q}`] as number;
        const exact = d[`q${q}`] as number;
        // DDSketch: within α of the value at rank ⌊q(n−1)⌋; quantile_cont lies between that value and the next.
        const tol = DDSKETCH_RELATIVE_ACCURACY * Math.max(Math.abs(lo), Math.abs(hi)) + (hi - lo);
        expect(Math.abs(est - exact), `q${q}: ${est} vs ${exact}`).toBeLessThanOrEqual(tol + 1e-12);
        expect(Math.abs(est - lo)).toBeLessThanOrEqual(DDSKETCH_RELATIVE_ACCURACY * Math.abs(lo) + 1e-12);
      }
    });
  }
});

describe('merging shards gives one pass', () => {
  it('numeric: sketch, registers and counts identical; moments to rounding', () => {
    const xs = numbers(21, 30_000);
    const whole = numericStats(xs);
    const r = rng(5);
    const shards = [0, 1, 2, 3].map(() => newColumnStats('numeric'));
    for (const x of xs) addValue(shards[Math.floor(r() * 4)], x);
    const merged = newColumnStats('numeric');
    for (const s of [shards[2], shards[0], shards[3], shards[1]]) mergeColumnStats(merged, s);
    const a = columnStatsToJson(whole);
    const b = columnStatsToJson(merged);
    if (a.kind !== 'numeric' || b.kind !== 'numeric') throw new Error('kind');
    expect(b.sketch).toEqual(a.sketch);
    expect(b.distinct).toBe(a.distinct);
    expect(b.moments.count).toBe(a.moments.count);
    expect(b.moments.nulls).toBe(a.moments.nulls);
    expect(b.moments.mean).toBeCloseTo(a.moments.mean, 9);
    expect(b.moments.m2 / a.moments.m2).toBeCloseTo(1, 9);
    expect(summarize(columnStatsFromJson(b))).toEqual(summarize(merged));
  });

  it('categorical: exact counts while distinct values fit the capacity', () => {
    const r = rng(9);
    const values = Array.from({ length: 10_000 }, () => (r() < 0.03 ? null : `c${Math.floor(r() ** 2 * 40)}`));
    const whole = newColumnStats('categorical');
    addValues(whole, values);
    const a = newColumnStats('categorical');
    const b = newColumnStats('categorical');
    addValues(a, values.slice(0, 3_000));
    addValues(b, values.slice(3_000));
    mergeColumnStats(a, b);
    expect(columnStatsToJson(a)).toEqual(columnStatsToJson(whole));
  });

  it('embedding: counts, sketches and sums identical up to rounding', () => {
    const r = rng(3);
    const vs = Array.from({ length: 500 }, () => Float32Array.from({ length: 16 }, () => normal(r)));
    const whole = newColumnStats('embedding', 16);
    addValues(whole, vs);
    const a = newColumnStats('embedding', 16);
    const b = newColumnStats('embedding', 16);
    addValues(a, vs.slice(0, 123));
    addValues(b, vs.slice(123));
    mergeColumnStats(a, b);
    const ja = columnStatsToJson(a);
    const jw = columnStatsToJson(whole);
    if (ja.kind !== 'embedding' || jw.kind !== 'embedding') throw new Error('kind');
    expect(ja.embedding.normSketch).toEqual(jw.embedding.normSketch);
    expect(ja.embedding.projections.map((p) => p.sketch)).toEqual(jw.embedding.projections.map((p) => p.sketch));
    ja.embedding.sum.forEach((x, i) => expect(x).toBeCloseTo(jw.embedding.sum[i], 9));
    ja.embedding.fourier.forEach((x, i) => expect(x).toBeCloseTo(jw.embedding.fourier[i], 9));
  });
});

describe('frequent items equal GROUP BY counts', () => {
  it('exact below the capacity, lower bounds within n/(capacity+1) above it', async () => {
    for (const distinct of [30, 5_000]) {
      const r = rng(distinct);
      const values = Array.from({ length: 40_000 }, () => `v${Math.floor(r() ** 3 * distinct)}`);
      await con.run('CREATE OR REPLACE TABLE c (v VARCHAR)');
      const app = await con.createAppender('c');
      for (const v of values) {
        app.appendVarchar(v);
        app.endRow();
      }
      app.closeSync();
      const rows = (await con.runAndReadAll('SELECT v, count(*) AS n FROM c GROUP BY v')).getRowObjectsJS();
      const exact = new Map(rows.map((x) => [x.v as string, Number(x.n)]));
      const s = newColumnStats('categorical');
      addValues(s, values);
      const top = summarize(s, 20).top ?? [];
      expect(top.length).toBe(Math.min(20, exact.size));
      const bound = distinct <= FREQUENT_CAPACITY ? 0 : values.length / (FREQUENT_CAPACITY + 1);
      for (const t of top) {
        const e = exact.get(t.value) as number;
        expect(t.count).toBeLessThanOrEqual(e);
        expect(e - t.count).toBeLessThanOrEqual(bound);
      }
      const top5 = [...exact.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
      for (const [v] of top5) expect(top.map((t) => t.value)).toContain(v);
    }
  });
});

describe('drift', () => {
  it('PSI and Jensen–Shannon over the reference deciles equal the same formulas on exact bins from DuckDB', async () => {
    const r = rng(77);
    const ref = Array.from({ length: 50_000 }, () => 10 + 2 * normal(r));
    for (const shift of [0, 0.5, 2]) {
      const cur = Array.from({ length: 50_000 }, () => 10 + shift + 2 * normal(r));
      const rs = numericStats(ref);
      const cs = numericStats(cur);
      const got = drift(rs, cs);
      if (rs.kind !== 'numeric') throw new Error('kind');
      // the same bins computed exactly: cut at the sketch's deciles, count in DuckDB.
      const cuts = Array.from({ length: 9 }, (_, i) => sketchQuantile(rs.sketch, (i + 1) / 10) as number);
      await loadNumbers('ref', ref);
      await loadNumbers('cur', cur);
      const list = `[${cuts.join(', ')}]::DOUBLE[]`;
      const bins = async (table: string): Promise<number[]> => {
        const rows = (
          await con.runAndReadAll(
            `SELECT list_position(${list}, (SELECT min(c) FROM unnest(${list}) AS u(c) WHERE x <= c)) AS b, count(*) AS n
             FROM ${table} GROUP BY b`,
          )
        ).getRowObjectsJS();
        const out = new Array<number>(10).fill(0);
        for (const row of rows) out[row.b === null ? 9 : Number(row.b) - 1] += Number(row.n);
        const total = out.reduce((a, b) => a + b, 0);
        return out.map((x) => x / total);
      };
      const br = await bins('ref');
      const bc = await bins('cur');
      // the sketch places a value by its bucket, so fractions move by at most the values within α of a cut
      expect(Math.abs((got.psi as number) - psi(br, bc))).toBeLessThan(0.02 + 0.05 * psi(br, bc));
      expect(Math.abs((got.jsDivergence as number) - jsDivergence(br, bc))).toBeLessThan(0.01);
      if (shift === 0) expect(got.psi).toBeLessThan(0.02);
      if (shift === 2) expect(got.psi).toBeGreaterThan(0.25);
    }
  });

  it('categorical PSI: same mix ≈ 0, a new dominant class is large', () => {
    const r = rng(4);
    const mix = (p: number) => Array.from({ length: 20_000 }, () => (r() < p ? 'new' : `c${Math.floor(r() * 5)}`));
    const a = newColumnStats('categorical');
    const b = newColumnStats('categorical');
    const c = newColumnStats('categorical');
    addValues(a, mix(0));
    addValues(b, mix(0));
    addValues(c, mix(0.5));
    expect(drift(a, b).psi).toBeLessThan(0.01);
    expect(drift(a, c).psi).toBeGreaterThan(1);
    expect(drift(a, c).jsDivergence).toBeGreaterThan(0.2);
  });

  it('embeddings: a resample scores near zero, a shifted column clearly above', () => {
    const r = rng(8);
    const dim = 32;
    const centre = Float32Array.from({ length: dim }, () => normal(r));
    const sample = (offset: number) =>
      Array.from({ length: 2_000 }, () =>
        Float32Array.from({ length: dim }, (_, i) => centre[i] + offset * (i % 2 ? 1 : -1) + normal(r)),
      );
    const ref = newColumnStats('embedding', dim);
    const same = newColumnStats('embedding', dim);
    const moved = newColumnStats('embedding', dim);
    addValues(ref, sample(0));
    addValues(same, sample(0));
    addValues(moved, sample(1.5));
    const d0 = drift(ref, same);
    const d1 = drift(ref, moved);
    expect(d0.mmd2).toBeLessThan(0.01);
    expect(d1.mmd2).toBeGreaterThan(10 * (d0.mmd2 as number));
    expect(d1.meanCosineShift).toBeGreaterThan(10 * (d0.meanCosineShift as number));
  });
});
