/**
 * Statistics recorded by materialization and backfill (src/features/monitoring): a run's stored
 * statistics equal DuckDB over the values the store holds; two shards of one run merge to the
 * statistics of one pass; `repo.drift` flags a shifted source above the view's thresholds and not
 * an identical one; thresholds are validated; `strata stats <view>` prints the run and the drift.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as A from 'apache-arrow';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../src/features/index.js';
import { materialize, SqliteOnlineStore } from '../../src/online/index.js';
import { DDSKETCH_RELATIVE_ACCURACY } from '../../src/stats/index.js';
import { runCli } from '../../src/cli/run.js';
import { rng } from '../helpers/random.js';
import { txRepoYaml } from '../helpers/tx-repo.js';

const T0 = Date.UTC(2024, 0, 1);
const START = new Date(T0 - 1);
const END = new Date(T0 + 86_400_000);
const ENTITIES = 3000;

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Events: 2 per entity; amount ~ N(mean, sd), 3 % nulls; category of 4 (or 5 with `extra`). */
function events(seed: number, mean = 100, sd = 15, extra = 0): A.Table {
  const r = rng(seed);
  const n = ENTITIES * 2;
  const ids = new Int32Array(n);
  const ts = new Float64Array(n);
  const amount: (number | null)[] = [];
  const category: string[] = [];
  for (let i = 0; i < n; i++) {
    ids[i] = i % ENTITIES;
    ts[i] = T0 + Math.floor(r() * 80_000_000);
    amount.push(r() < 0.03 ? null : mean + sd * normal(r));
    category.push(r() < extra ? 'new' : `c${Math.floor(r() * 4)}`);
  }
  return new A.Table({
    user_id: A.makeVector(ids),
    event_timestamp: A.vectorFromArray(
      Array.from(ts, (t) => new Date(t)),
      new A.TimestampMillisecond(),
    ),
    amount: A.vectorFromArray(amount, new A.Float64()),
    category: A.vectorFromArray(category, new A.Utf8()),
  });
}

function defs(table: A.Table) {
  return [
    defineEntity({ name: 'user', joinKeys: ['user_id'] }),
    defineSource({ name: 'tx', kind: 'table', table }),
    defineFeatureView({
      name: 'latest',
      entities: ['user'],
      source: 'tx',
      features: ['amount', 'category'],
      monitoring: { drift: { amount: { psi: 0.2 }, '*': { psi: 0.25, js: 0.1 } } },
    }),
    defineFeatureView({
      name: 'sums',
      entities: ['user'],
      source: 'tx',
      aggregations: [{ column: 'amount', function: 'sum', window: '1d', name: 'amount_1d' }],
      tile: '1h',
    }),
  ];
}

let dir: string;
let db: DuckDBInstance;
let con: DuckDBConnection;
const stores: SqliteOnlineStore[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-stats-runs-'));
  db = await DuckDBInstance.create(':memory:');
  con = await db.connect();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  con?.closeSync();
  db?.closeSync();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function repoIn(sub: string, table: A.Table): Promise<FeatureRepo> {
  return FeatureRepo.fromDefinitions(defs(table), { dir: join(dir, sub) });
}

async function storeIn(name: string): Promise<SqliteOnlineStore> {
  const s = await SqliteOnlineStore.open(join(dir, `${name}.sqlite`));
  stores.push(s);
  return s;
}

describe('statistics runs of materialize and backfill', () => {
  it("a materialize run's stored statistics equal DuckDB over the materialized values", async () => {
    const repo = await repoIn('one', events(1));
    const store = await storeIn('one');
    const res = await materialize(repo, store, { start: START, end: END, views: ['latest'], runId: 'r1' });
    expect(res.views[0].statisticsRun).toBe('r1');
    const runs = await repo.statistics('latest');
    expect(runs.map((r) => [r.runId, r.kind, r.rows, r.shards])).toEqual([['r1', 'materialize', ENTITIES, []]]);
    const stats = runs[0].features;
    expect(Object.keys(stats).sort()).toEqual(['amount', 'category']);

    const amounts: (number | null)[] = [];
    const cats: (string | null)[] = [];
    for await (const batch of store.scan('latest'))
      for (const row of batch) {
        amounts.push(row.values.amount as number | null);
        cats.push(row.values.category as string | null);
      }
    await con.run('CREATE OR REPLACE TABLE m (amount DOUBLE, category VARCHAR)');
    const app = await con.createAppender('m');
    amounts.forEach((a, i) => {
      if (a === null) app.appendNull();
      else app.appendDouble(a);
      if (cats[i] === null) app.appendNull();
      else app.appendVarchar(cats[i]);
      app.endRow();
    });
    app.closeSync();
    const q = (
      await con.runAndReadAll(
        `SELECT count(amount) AS n, count(*) - count(amount) AS nulls, avg(amount) AS mean, stddev_samp(amount) AS sd,
                min(amount) AS lo, max(amount) AS hi, ${[0.05, 0.5, 0.95].map((p, i) => `quantile_cont(amount, ${p}) AS q${i}`).join(', ')}
         FROM m`,
      )
    ).getRowObjectsJS()[0];
    const s = stats.amount.summary();
    expect(s.count).toBe(Number(q.n));
    expect(s.nulls).toBe(Number(q.nulls));
    expect(s.min).toBe(q.lo);
    expect(s.max).toBe(q.hi);
    expect(s.mean).toBeCloseTo(q.mean as number, 9);
    expect(s.stddev).toBeCloseTo(q.sd as number, 9);
    const sorted = amounts.filter((a): a is number => a !== null).sort((a, b) => a - b);
    [0.05, 0.5, 0.95].forEach((p, i) => {
      const want = q[`q${i}`] as number;
      // documented bound (docs/MONITORING.md): α of the value of rank ⌊q(n − 1)⌋ plus the gap to the next
      // value, which quantile_cont interpolates towards
      const k = Math.floor(p * (sorted.length - 1));
      const bound = DDSKETCH_RELATIVE_ACCURACY * Math.abs(sorted[k]) + (sorted[k + 1] - sorted[k]) + 1e-9;
      expect(Math.abs(stats.amount.quantile(p)! - want)).toBeLessThanOrEqual(bound);
    });
    const groups = (
      await con.runAndReadAll('SELECT category, count(*) AS n FROM m GROUP BY category')
    ).getRowObjectsJS();
    const top = stats.category.summary().top!;
    expect(Object.fromEntries(top.map((t) => [t.value, t.count]))).toEqual(
      Object.fromEntries(groups.map((g) => [g.category as string, Number(g.n)])),
    );
  });

  it('two shards of one run merge to the statistics of one pass (materialize and backfill)', async () => {
    const table = events(2);
    const whole = await repoIn('whole', table);
    const sharded = await repoIn('sharded', table);
    await materialize(whole, await storeIn('whole'), { start: START, end: END, runId: 'all' });
    const sstore = await storeIn('sharded');
    for (const index of [1, 0])
      await materialize(sharded, sstore, { start: START, end: END, runId: 'split', shard: { index, count: 2 } });
    await whole.backfill('sums', { runId: 'bf' });
    for (const index of [0, 1]) await sharded.backfill('sums', { runId: 'bf', shard: { index, count: 2 } });
    expect(await readdir(join(dir, 'sharded', '.strata', 'stats', 'latest'))).toEqual([
      'split.shard-0-of-2.json',
      'split.shard-1-of-2.json',
    ]);
    for (const view of ['latest', 'sums']) {
      const [one] = await whole.statistics(view);
      const [two] = await sharded.statistics(view);
      expect(two.shards).toEqual(['0/2', '1/2']);
      expect(two.rows).toBe(one.rows);
      expect(Object.keys(two.features).sort()).toEqual(Object.keys(one.features).sort());
      for (const [name, s] of Object.entries(one.features)) {
        const a = s.toJSON();
        const b = two.features[name].toJSON();
        if (a.kind === 'numeric' && b.kind === 'numeric') {
          expect(b.sketch).toEqual(a.sketch);
          expect(b.distinct).toBe(a.distinct);
          const [ma, mb] = [s.summary(), two.features[name].summary()];
          expect([mb.count, mb.nulls, mb.min, mb.max]).toEqual([ma.count, ma.nulls, ma.min, ma.max]);
          expect(mb.mean).toBeCloseTo(ma.mean!, 9);
          expect(mb.stddev).toBeCloseTo(ma.stddev!, 9);
        } else expect(b).toEqual(a);
      }
    }
    expect((await sharded.statistics(undefined, { kind: 'backfill' })).map((r) => r.view)).toEqual(['sums']);
  });

  it('repo.drift flags a shifted source above the thresholds and not an identical distribution', async () => {
    const store = await storeIn('drift');
    const ref = await repoIn('drift', events(3));
    await materialize(ref, store, { start: START, end: END, views: ['latest'], runId: 'ref' });
    const same = await repoIn('drift', events(4));
    await materialize(same, store, { start: START, end: END, views: ['latest'], runId: 'same' });
    const calm = await same.drift('latest', { reference: 'ref', run: 'same' });
    expect(calm.breached).toBe(false);
    expect(calm.features.map((f) => f.feature).sort()).toEqual(['amount', 'category']);
    expect(calm.features.find((f) => f.feature === 'amount')!.thresholds).toEqual({ psi: 0.2 });
    expect(calm.features.find((f) => f.feature === 'category')!.thresholds).toEqual({ psi: 0.25, js: 0.1 });

    const shifted = await repoIn('drift', events(5, 110, 15, 0.3));
    await materialize(shifted, store, { start: START, end: END, views: ['latest'], runId: 'shifted' });
    const hot = await shifted.drift('latest', { reference: 'ref' }); // latest run by default
    expect(hot.run).toBe('shifted');
    expect(hot.breached).toBe(true);
    const byName = Object.fromEntries(hot.features.map((f) => [f.feature, f]));
    expect(byName.amount.breaches).toEqual(['psi']);
    expect(byName.category.breaches).toContain('psi');
    await expect(shifted.drift('latest', { reference: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // a training set as the reference: its feature columns' statistics, recorded as a `training` run
    const entityRows = Array.from({ length: 500 }, (_, i) => ({ user_id: i, event_timestamp: END }));
    const train = await ref
      .getHistoricalFeatures(entityRows, { features: ['latest'], fullFeatureNames: true, statisticsRunId: 'train' })
      .toArrow();
    const [run] = await ref.statistics('latest', { kind: 'training' });
    expect([run.runId, run.rows]).toEqual(['train', 500]);
    const amounts = train.getChild('latest__amount')!.toArray() as Float64Array;
    expect(run.features.amount.summary().count).toBe(train.numRows - train.getChild('latest__amount')!.nullCount);
    expect(run.features.amount.summary().max).toBe(
      Math.max(...amounts.filter((_, i) => train.getChild('latest__amount')!.isValid(i))),
    );
    expect((await shifted.drift('latest', { reference: 'train' })).breached).toBe(true);
    expect((await same.drift('latest', { reference: 'train', run: 'same' })).breached).toBe(false);
  });

  it('statistics: false records nothing; a bad run id is INVALID_ARGUMENT', async () => {
    const repo = await repoIn('off', events(6));
    const store = await storeIn('off');
    const r = await materialize(repo, store, { start: START, end: END, statistics: false });
    expect(r.views.every((v) => v.statisticsRun === undefined)).toBe(true);
    expect(await repo.statistics()).toEqual([]);
    await expect(materialize(repo, store, { start: START, end: END, runId: '../x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('drift thresholds in YAML', () => {
  const yaml = (monitoring: string) =>
    txRepoYaml({ view: 'latest', features: ['amount_usd', 'user_emb_norm'], monitoring });
  async function load(monitoring: string): Promise<FeatureRepo> {
    const d = await mkdtemp(join(dir, 'yaml-'));
    await writeFile(join(d, 'strata.yaml'), 'project: p\n');
    await writeFile(join(d, 'features.yaml'), yaml(monitoring));
    await writeFile(
      join(d, 'tx.csv'),
      'user_id,event_timestamp,amount_usd,user_emb_norm\n1,2024-01-01T00:00:00Z,1.5,2\n',
    );
    return FeatureRepo.load(d);
  }

  it('snake_case feature names stay as written; mean_shift is accepted', async () => {
    const repo = await load(`    monitoring:
      drift:
        amount_usd: { psi: 0.2, js: 0.1 }
        user_emb_norm: { mean_shift: 0.05, mmd2: 0.02 }`);
    expect(repo.view('latest').monitoring).toEqual({
      drift: { amount_usd: { psi: 0.2, js: 0.1 }, user_emb_norm: { meanShift: 0.05, mmd2: 0.02 } },
    });
  });

  it('unknown features and metrics, and bad numbers, are named with their line', async () => {
    const err = await load(`    monitoring:
      drift:
        amount: { psi: 0.2 }
        user_emb_norm: { pis: 0.1, js: -1 }`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const errors = (err as { details: { errors: { field: string; line?: number; hint: string }[] } }).details.errors;
    expect(errors.map((e) => e.field)).toEqual([
      'monitoring.drift.amount',
      'monitoring.drift.user_emb_norm.pis',
      'monitoring.drift.user_emb_norm.js',
    ]);
    expect(errors[0].hint).toMatch(/amount_usd/);
    expect(errors[1].hint).toMatch(/did you mean psi/);
    expect(errors.every((e) => typeof e.line === 'number')).toBe(true);
  });
});

describe('strata stats <view>', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await runCli(args, { stdout, stderr, cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    return { code, out, err };
  }

  it("prints the latest run's summary and, with --reference, drift against the thresholds", async () => {
    const d = await mkdtemp(join(dir, 'cli-'));
    await writeFile(join(d, 'strata.yaml'), 'project: p\n');
    await writeFile(
      join(d, 'features.yaml'),
      txRepoYaml({
        view: 'latest',
        features: ['amount'],
        monitoring: '    monitoring: { drift: { amount: { psi: 0.2 } } }',
      }),
    );
    const csv = (shift: number) =>
      'user_id,event_timestamp,amount\n' +
      Array.from({ length: 400 }, (_, i) => `${i},2024-01-01T00:00:00Z,${(i % 100) + shift}`).join('\n');
    await writeFile(join(d, 'tx.csv'), csv(0));
    await (await runMaterialize(d, 'base')).close();
    await writeFile(join(d, 'tx.csv'), csv(60));
    await (await runMaterialize(d, 'moved')).close();
    const plain = await cli(['stats', 'latest', '--repo', d]);
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).toMatch(/latest: materialize run moved/);
    expect(plain.out).toMatch(/amount\s+\|?\s*numeric\s+\|?\s*400/);
    const drift = await cli(['stats', 'latest', '--repo', d, '--reference', 'base', '--json']);
    expect(drift.code, drift.err).toBe(0);
    const j = JSON.parse(drift.out) as { breached: boolean; drift: { feature: string; breaches: string[] }[] };
    expect(j.breached).toBe(true);
    expect(j.drift).toMatchObject([{ feature: 'amount', breaches: ['psi'] }]);
    const missing = await cli(['stats', 'latest', '--repo', d, '--reference', 'nope']);
    expect(missing.code).not.toBe(0);
  });

  async function runMaterialize(d: string, runId: string): Promise<FeatureRepo> {
    const repo = await FeatureRepo.load(d);
    const store = await storeIn(`cli-${runId}`);
    await materialize(repo, store, { start: START, end: END, runId });
    return repo;
  }
});
