/**
 * Query figures (issue 19): `npm run bench -- query [--quick]`. SQL through DuckDB (bench/query-sql.ts);
 * ROWS = 10 M metadata rows (2 × 10^5 with --quick, a smoke run). JSON line last.
 */
import { sqlFigures } from './query-sql.js';

export async function run(): Promise<Record<string, number>> {
  const quick = process.argv.includes('--quick');
  const rows = Number(process.env.STRATA_BENCH_QUERY_ROWS ?? (quick ? 200_000 : 10_000_000));
  const fig = await sqlFigures(rows, quick ? 2 : 5);
  console.log(`query (${rows.toLocaleString()} rows)      strata       duckdb/parquet   ratio (duckdb/strata)`);
  console.log(
    `  GROUP BY, repeated   ${fig.sql_repeat_s} s      ${fig.duckdb_parquet_s} s          ${fig.sql_vs_duckdb_parquet}`,
  );
  console.log(
    `  GROUP BY, first      ${fig.sql_first_s} s      ${fig.duckdb_parquet_s} s          ${fig.sql_first_vs_duckdb_parquet}`,
  );
  return fig;
}
