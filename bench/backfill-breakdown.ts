/**
 * Where a spilled Parquet backfill's time goes (issue 21), in this process, on a file the backfill
 * bench wrote (e.g. DuckDB's COPY of datasets/events.ts' events):
 *   npx tsx bench/backfill-breakdown.ts <file.parquet> [memoryLimitBytes, default 128 MiB]
 * Prints (a) DuckDB's chunks fetched into JS and dropped (the floor of any engine reading the rows
 * into JS) and read into Arrow batches, (b) read + spill, (c) the per-partition tile builds and the
 * merge (phases timed from the backfill's progress events), (d) DuckDB's GROUP BY of the same tiles,
 * plus the backfill's CPU time (all threads) and this process's peak RSS.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetSourceBatches } from '../src/features/sources/index.js';
import { tilesRepo } from './backfill-repo.js';

const [file, limitArg] = process.argv.slice(2);
if (!file) throw new Error('usage: backfill-breakdown.ts <file.parquet> [memoryLimitBytes]');
const memoryLimitBytes = Number(limitArg ?? 128 * 2 ** 20);
const since = (t: number) => ((performance.now() - t) / 1000).toFixed(2);

const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
let t = performance.now();
const raw = await con.stream(`SELECT * FROM read_parquet('${file}')`);
let rows = 0;
for (let c = await raw.fetchChunk(); c && c.rowCount > 0; c = await raw.fetchChunk()) rows += c.rowCount;
console.log(`(a) DuckDB chunks into JS, dropped: ${since(t)} s (${rows.toLocaleString()} rows)`);
t = performance.now();
for await (const b of parquetSourceBatches(file, undefined, { reader: 'duckdb' })) void b;
console.log(`(a) read into Arrow batches: ${since(t)} s`);

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const repo = await tilesRepo('parquet', file, { memoryLimitBytes });
const tRepo = performance.now();
let tSpill = tRepo;
let tParts = tRepo;
let partitions = 1;
const tiles = await repo.backfill('tiles', {
  onProgress: (p) => {
    if (p.phase.startsWith('spill ') && p.unit === 'partitions')
      [tSpill, partitions] = [performance.now(), p.total ?? 1];
    if (p.phase.startsWith('partitions ')) tParts = performance.now();
  },
});
const tEnd = performance.now();
const cpu = process.cpuUsage(cpu0);
const s = (a: number, b: number) => ((b - a) / 1000).toFixed(2);
console.log(
  `(b) read + spill ${s(tRepo, tSpill)} s; (c) ${partitions} partitions' tiles ${s(tSpill, tParts)} s, merge ${s(tParts, tEnd)} s; ` +
    `backfill ${s(t0, tEnd)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; ${tiles.numRows.toLocaleString()} tiles`,
);
t = performance.now();
await con.run(
  `CREATE OR REPLACE TEMP TABLE tiles AS SELECT entity_id, time_bucket(INTERVAL 1 day, event_timestamp - INTERVAL 1 millisecond) AS b,
   count(value) AS c, sum(value) AS s, min(value) AS mn, max(value) AS mx FROM read_parquet('${file}') GROUP BY ALL`,
);
console.log(`(d) DuckDB GROUP BY: ${since(t)} s; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
con.closeSync();
