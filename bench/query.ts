/**
 * Query figures (issue 19): chunk pruning by per-chunk statistics (`pushdown_read_fraction`: chunks
 * of the predicate column read by a 1%-selective `ds.filter(expression)` over 1 M clustered rows)
 * and filter throughput of a string expression vs the equivalent JS predicate (`filter_rows_s`), and
 * `ds.sql` vs DuckDB over Parquet (`sql_vs_duckdb_parquet`).
 * Each section is a function returning its figures; `run` prints one table and the JSON line.
 * `npx tsx bench/query.ts [--quick]`.
 */
import { randomBytes } from 'node:crypto';
import { Dataset } from '../src/dataset/dataset.js';
import { prng } from '../src/random.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { CountingStorage } from '../test/helpers/counting-storage.js';
import { sqlFigures } from './query-sql.js';

type Figures = Record<string, number>;
interface Section {
  readonly name: string;
  run(quick: boolean): Promise<Figures>;
}

const quickRun = process.argv.includes('--quick');

/** Chunks of `t` read by a 1%-selective range predicate over clustered values, per chunk of the column. */
async function pushdown(quick: boolean): Promise<Figures> {
  const n = quick ? 200_000 : 1_000_000;
  const name = `bench-pushdown-${randomBytes(6).toString('hex')}`;
  const r = prng(1);
  const writer = await Dataset.create(`memory://${name}`, {
    schema: { t: 'float64', score: 'float32' },
    chunkSizeBytes: 64 * 1024,
  });
  const batch = 250_000;
  for (let at = 0; at < n; at += batch) {
    const m = Math.min(batch, n - at);
    await writer.extend({
      t: Array.from({ length: m }, (_, k) => at + k + Math.floor(r() * 2000) - 1000),
      score: Array.from({ length: m }, () => r()),
    });
    await writer.commit(`rows ${at}`);
  }
  await writer.close();
  const storage = new CountingStorage(new MemoryStorage(name));
  const ds = await Dataset.open(`memory://${name}`, { storage });
  const chunks = (await ds.columnStats('t')).chunks;
  const lo = Math.floor(n / 2);
  const started = performance.now();
  const matches = await ds.filter(`t >= ${lo} AND t < ${lo + n / 100}`).count();
  const ms = performance.now() - started;
  const read = new Set(storage.chunkReads([ds.columnInfo('t').id])).size;
  await ds.close();
  return {
    pushdown_rows: n,
    pushdown_chunks: chunks,
    pushdown_chunks_read: read,
    pushdown_matches: matches,
    pushdown_ms: ms,
    pushdown_read_fraction: read / chunks,
  };
}

/** Rows per second of `label = 'cat' AND score > 0.5` as an expression and as a JS predicate (columns warm). */
async function filterThroughput(quick: boolean): Promise<Figures> {
  const n = quick ? 200_000 : 1_000_000;
  const labels = ['cat', 'dog', 'eel', 'fox', 'gnu', 'hen', 'ibis', 'jay', 'koi', 'lynx'];
  const r = prng(2);
  const ds = await Dataset.create(`memory://bench-filter-${randomBytes(6).toString('hex')}`, {
    schema: { label: 'text', score: 'float32' },
  });
  await ds.extend({
    label: Array.from({ length: n }, () => labels[Math.floor(r() * labels.length)]),
    score: Array.from({ length: n }, () => r()),
  });
  await ds.commit('rows');
  const expr = "label = 'cat' AND score > 0.5";
  const js = (row: Readonly<Record<string, unknown>>): boolean => row.label === 'cat' && (row.score as number) > 0.5;
  // Warm the decoded-column cache both paths share, then take the median of 5 runs each.
  const expected = await ds.filter(js).count();
  if ((await ds.filter(expr).count()) !== expected) throw new Error('expression and JS predicate disagree');
  const median = async (f: () => Promise<unknown>): Promise<number> => {
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      await f();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[2];
  };
  const exprMs = await median(() => ds.filter(expr).count());
  const jsMs = await median(() => ds.filter(js).count());
  await ds.close();
  return {
    filter_rows: n,
    filter_rows_s: (n / exprMs) * 1000,
    filter_js_rows_s: (n / jsMs) * 1000,
    filter_expr_vs_js: jsMs / exprMs,
  };
}

/**
 * `ds.sql` GROUP BY vs DuckDB over a Parquet export of the same columns (bench/query-sql.ts): 10 M
 * metadata rows (2 × 10^5 with --quick; STRATA_BENCH_QUERY_ROWS overrides), first and repeated query.
 */
async function sql(quick: boolean): Promise<Figures> {
  const rows = Number(process.env.STRATA_BENCH_QUERY_ROWS ?? (quick ? 200_000 : 10_000_000));
  return { ...(await sqlFigures(rows, quick ? 2 : 5)) };
}

/** Sections in print order. */
const SECTIONS: readonly Section[] = [
  { name: 'pushdown', run: pushdown },
  { name: 'filter', run: filterThroughput },
  { name: 'sql', run: sql },
];

export async function run(quick = quickRun): Promise<Figures> {
  const figures: Figures = {};
  for (const s of SECTIONS) {
    const f = await s.run(quick);
    console.log(`\n${s.name}`);
    console.table(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, { value: Number(v.toPrecision(4)) }])));
    Object.assign(figures, f);
  }
  return figures;
}

if (import.meta.filename === process.argv[1]) {
  const figures = await run();
  console.log(JSON.stringify({ area: 'query', ...figures }));
}
