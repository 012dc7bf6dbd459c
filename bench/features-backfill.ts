/**
 * Backfills larger than memory (issue 21): N events (default 30 M; env STRATA_BENCH_EVENTS), 100 k
 * entities over 30 days, written once as CSV, Arrow IPC (stream) and Parquet (DuckDB's COPY of the
 * CSV). Each format is backfilled (1-day tiles, count/sum/min/max) by a child process under the
 * repo's default memoryLimitBytes (env STRATA_BENCH_MEMORY_LIMIT_BYTES to change it), which reports
 * its time and peak RSS; DuckDB runs the same GROUP BY over the Parquet file in this process, right
 * after Strata's runs. Generation is excluded from the timings. STRATA_BENCH_FORMATS picks formats.
 *   backfill_30m_csv_s, _parquet_s, _arrow_s     child wall time (repo load + backfill)
 *   backfill_30m_peak_rss_mb                     the largest of the three children's peak RSS
 *   ratio_backfill_30m_vs_duckdb                 DuckDB's GROUP BY time / Strata's Parquet time
 * Then the two Parquet readers side by side in this process on the file's first 200 k rows (copied
 * by DuckDB into a file of row groups of 64 Ki rows; parquetjs-lite decodes a whole row group before
 * its first batch, and is ~100x slower), each reading it whole as batches that are discarded.
 *   parquet_read_duckdb_rows_s, parquet_read_parquetjs_rows_s   rows/s
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetSourceBatches, type ParquetReaderName } from '../src/features/sources/index.js';
import { writeEventFiles } from '../datasets/events.js';
import { runBackfillChild, type BackfillChildOut } from './backfill-child-process.js';

const N = Number(process.env.STRATA_BENCH_EVENTS ?? 30_000_000);
const E = 100_000;
const BATCH = 1 << 20;
/** Formats to backfill (env STRATA_BENCH_FORMATS, e.g. `csv,arrow`); the DuckDB ratio needs parquet. */
const FORMATS = (process.env.STRATA_BENCH_FORMATS ?? 'csv,arrow,parquet').split(',') as ('csv' | 'arrow' | 'parquet')[];

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Rows/s of one Parquet reader over the whole file. */
async function readRate(file: string, reader: ParquetReaderName): Promise<number> {
  const t = performance.now();
  let rows = 0;
  for await (const b of parquetSourceBatches(file, undefined, { reader })) rows += b.numRows;
  return rows / ((performance.now() - t) / 1000);
}

/** The backfill_30m figures (named for the default size whatever N is; `backfill_30m_events` says N). */
export async function runBackfill30m(log: (s: string) => void): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'strata-bench-backfill-'));
  try {
    const files = {
      csv: path.join(dir, 'events.csv'),
      arrow: path.join(dir, 'events.arrows'),
      parquet: path.join(dir, 'events.parquet'),
    };
    let t = performance.now();
    await writeEventFiles({ events: N, entities: E, seed: 42, batchRows: BATCH, arrow: files.arrow, csv: files.csv });
    const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
    const con = await inst.connect();
    await con.run(
      `COPY (SELECT * FROM read_csv('${files.csv}', header = true, columns = {'entity_id': 'INTEGER', 'event_timestamp': 'TIMESTAMP', 'value': 'DOUBLE'}))
       TO '${files.parquet}' (FORMAT parquet, ROW_GROUP_SIZE 1048576)`,
    );
    const sizes = await Promise.all(Object.values(files).map(async (f) => (await stat(f)).size / 2 ** 20));
    log(
      `backfill larger than memory: ${N.toLocaleString()} events, ${E.toLocaleString()} entities; files (MB) csv ${sizes[0].toFixed(0)}, arrow ${sizes[1].toFixed(0)}, parquet ${sizes[2].toFixed(0)}; generated in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const out: Record<string, BackfillChildOut> = {};
    for (const kind of FORMATS) {
      out[kind] = await runBackfillChild(kind, files[kind], process.env.STRATA_BENCH_MEMORY_LIMIT_BYTES ?? 'default');
      const o = out[kind];
      log(
        `  ${kind.padEnd(8)} ${o.seconds.toFixed(1)} s, peak RSS ${(o.maxRssBytes / 2 ** 20).toFixed(0)} MB, ${o.partitions} partitions, ${o.tiles.toLocaleString()} tiles`,
      );
      if (o.count !== N) throw new Error(`${kind}: tiles count ${o.count} events, not ${N}`);
    }
    t = performance.now();
    await con.run(
      `CREATE OR REPLACE TEMP TABLE tiles AS SELECT entity_id, time_bucket(INTERVAL 1 day, event_timestamp - INTERVAL 1 millisecond) AS b,
       count(value) AS c, sum(value) AS s, min(value) AS mn, max(value) AS mx FROM read_parquet('${files.parquet}') GROUP BY ALL`,
    );
    const duckS = (performance.now() - t) / 1000;
    const check = await con.runAndReadAll('SELECT count(*)::DOUBLE, sum(c)::DOUBLE, sum(s) FROM tiles');
    const [groups, count, sum] = check.getRows()[0] as number[];
    const head = path.join(dir, 'head.parquet');
    await con.run(
      `COPY (SELECT * FROM read_parquet('${files.parquet}') LIMIT 200000) TO '${head}' (FORMAT parquet, ROW_GROUP_SIZE 65536)`,
    );
    con.closeSync();
    for (const kind of FORMATS) {
      const o = out[kind];
      if (o.tiles !== groups || o.count !== count || Math.abs(o.sum - sum) > 1e-6 * Math.abs(sum))
        throw new Error(`${kind}: ${o.tiles} tiles / ${o.count} / ${o.sum} vs DuckDB ${groups} / ${count} / ${sum}`);
    }
    log(`  duckdb   ${duckS.toFixed(1)} s (GROUP BY over the Parquet file; same tiles)`);
    const rss = Math.max(...Object.values(out).map((o) => o.maxRssBytes)) / 2 ** 20;
    const fig: Record<string, number> = { backfill_30m_events: N };
    for (const kind of FORMATS) fig[`backfill_30m_${kind}_s`] = round(out[kind].seconds);
    fig.backfill_30m_peak_rss_mb = Math.round(rss);
    fig.backfill_30m_partitions = Math.max(...Object.values(out).map((o) => o.partitions));
    fig.duckdb_backfill_30m_s = round(duckS);
    if (out.parquet) fig.ratio_backfill_30m_vs_duckdb = round(duckS / out.parquet.seconds);
    const duckRate = await readRate(head, 'duckdb');
    const pjRate = await readRate(head, 'parquetjs');
    log(
      `  parquet readers: duckdb ${Math.round(duckRate).toLocaleString()} rows/s, parquetjs-lite ${Math.round(pjRate).toLocaleString()} rows/s`,
    );
    fig.parquet_read_duckdb_rows_s = Math.round(duckRate);
    fig.parquet_read_parquetjs_rows_s = Math.round(pjRate);
    return fig;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runBackfill30m((s) => process.stdout.write(s + '\n')).then(
    (fig) => process.stdout.write(JSON.stringify(fig) + '\n'),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
