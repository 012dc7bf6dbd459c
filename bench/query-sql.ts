/**
 * `sql_vs_duckdb_parquet` (issue 19): a GROUP BY over ROWS metadata rows (label text, width int32,
 * score float64) through `ds.sql()` vs DuckDB over a Parquet file of the same columns (written by
 * DuckDB's COPY from the same values). Ratio = duckdb_time / strata_time (≥ 1: Strata is faster).
 * `sql_vs_duckdb_parquet` uses the repeated query (the version's DuckDB copy is cached by the first
 * call); `sql_first_vs_duckdb_parquet` includes copying the columns into DuckDB.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR } from '@duckdb/node-api';
import { Dataset } from '../src/dataset/dataset.js';

const LABELS = ['cat', 'dog', 'bird', 'fish', 'horse', 'sheep', 'cow', 'bear'];
const QUERY = 'SELECT label, count(*) AS n, avg(score) AS mean_score, sum(width) AS w FROM ds GROUP BY label';
const BATCH = 100_000;

function columns(start: number, n: number) {
  const label: string[] = new Array<string>(n);
  const width = new Int32Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = start + i;
    label[i] = LABELS[(r * 2654435761) % LABELS.length];
    width[i] = (r * 7919) % 4096;
    score[i] = ((r * 104729) % 1000) / 1000;
  }
  return { label, width, score };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, (performance.now() - t0) / 1000];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export async function sqlFigures(rows: number, repeats: number): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-sql-'));
  try {
    const ds = await Dataset.create(join(dir, 'meta.strata'), {
      schema: { label: 'text', width: 'int32', score: 'float64' },
    });
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    await con.run('CREATE TABLE src (label VARCHAR, width INTEGER, score DOUBLE)');
    const appender = await con.createAppender('src');
    for (let s = 0; s < rows; s += BATCH) {
      const c = columns(s, Math.min(BATCH, rows - s));
      await ds.extend({ label: c.label, width: Array.from(c.width), score: Array.from(c.score) });
      await ds.commit(`rows ${s}`);
      for (let o = 0; o < c.label.length; o += 2048) {
        const n = Math.min(2048, c.label.length - o);
        const chunk = DuckDBDataChunk.create([VARCHAR, INTEGER, DOUBLE], n);
        chunk.setColumns([
          c.label.slice(o, o + n),
          Array.from(c.width.subarray(o, o + n)),
          Array.from(c.score.subarray(o, o + n)),
        ]);
        appender.appendDataChunk(chunk);
      }
    }
    appender.closeSync();
    const parquet = join(dir, 'meta.parquet');
    await con.run(`COPY src TO '${parquet}' (FORMAT parquet)`);
    await con.run('DROP TABLE src');
    await con.run(`CREATE VIEW ds AS SELECT * FROM read_parquet('${parquet}')`);
    const duck: number[] = [];
    for (let t = 0; t < repeats; t++) duck.push((await timed(() => con.runAndReadAll(QUERY)))[1]);
    con.closeSync();
    db.closeSync();
    const [first, firstS] = await timed(() => ds.sql(QUERY));
    if (first.numRows !== LABELS.length) throw new Error(`ds.sql returned ${first.numRows} groups`);
    const warm: number[] = [];
    for (let t = 0; t < repeats; t++) warm.push((await timed(() => ds.sql(QUERY)))[1]);
    await ds.close();
    const duckS = median(duck);
    const warmS = median(warm);
    return {
      sql_rows: rows,
      duckdb_parquet_s: round(duckS),
      sql_first_s: round(firstS),
      sql_repeat_s: round(warmS),
      sql_vs_duckdb_parquet: round(duckS / warmS, 2),
      sql_first_vs_duckdb_parquet: round(duckS / firstS, 3),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
