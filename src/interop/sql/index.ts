import type { RecordBatch, Table } from 'apache-arrow';
import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBResultReader } from '@duckdb/node-api';
import type { Dataset } from '../../dataset/dataset.js';
import { StrataError, throwIfAborted } from '../../errors.js';
import type { SqlOptions } from '../types.js';
import { ROWID, type MediaRef, sqlShowable } from './columns.js';
import { decodeImageFunction } from './decode-image.js';
import { duckConnection, duckModule, ident } from './duckdb.js';
import {
  AsyncValues,
  type SqlFunctionContext,
  registerMacros,
  registerSqlFunction,
  sqlFunctions,
} from './functions.js';
import { type LoadedTable, loadTable, releaseTables } from './load.js';
import { parseQuery } from './parse.js';
import { pushdown } from './pushdown.js';
import { columnsTable, resultTable } from './result.js';

export { registerSqlFunction, type AsyncSqlFunction, type SqlFunctionContext } from './functions.js';
export { mediaRefType, type MediaRef } from './columns.js';
export { whereConjuncts, type Conjunct, type Literal, type WhereSummary } from './where.js';

registerSqlFunction(decodeImageFunction);

/** Runs of a query with async functions (embed, decode_image) before DuckDB has every value. */
const MAX_PASSES = 4;
const DEFAULT_BATCH_ROWS = 2048;

/**
 * Runs one SELECT over `ds` (table `ds`) and `options.tables` in DuckDB; returns the result as an
 * Arrow Table (types: see result.ts). Only the columns the query names are copied to DuckDB, in
 * chunks of `batchRows` rows; see docs/SQL.md for the column types, media references and UDFs.
 */
export async function sql(ds: Dataset, query: string, options: SqlOptions = {}): Promise<Table> {
  const con = await duckConnection();
  const loaded = new Map<string, LoadedTable>();
  try {
    const reader = await prepareAndRun(ds, query, options, con, loaded);
    return resultTable(reader ?? (await con.runAndReadAll(query)));
  } catch (err) {
    throw asStrataError(err);
  } finally {
    await releaseTables(con, [...loaded.values()]).catch(() => undefined);
    con.closeSync();
  }
}

/**
 * `sql` with the answer streamed: Arrow record batches of up to 2048 rows (DuckDB's chunks), read
 * from DuckDB as the consumer asks for them, so a large result is never held whole. A query with
 * `embed`/`decode_image` runs to completion first (its functions need every value), then streams.
 * The query's tables stay loaded until the iteration ends (or `return`s).
 */
export async function* sqlBatches(ds: Dataset, query: string, options: SqlOptions = {}): AsyncGenerator<RecordBatch> {
  const duck = await duckModule();
  const con = await duckConnection();
  const loaded = new Map<string, LoadedTable>();
  try {
    let reader: DuckDBResultReader | undefined;
    let result: DuckDBResult | undefined;
    try {
      reader = await prepareAndRun(ds, query, options, con, loaded);
      if (!reader) result = await con.stream(query);
    } catch (err) {
      throw asStrataError(err);
    }
    if (reader) {
      yield* resultTable(reader).batches;
      return;
    }
    const names = result!.columnNames();
    const types = result!.columnTypes();
    for (;;) {
      throwIfAborted(options.signal, 'sql');
      let chunk: DuckDBDataChunk | null;
      try {
        chunk = await result!.fetchChunk();
      } catch (err) {
        throw asStrataError(err);
      }
      if (!chunk || chunk.rowCount === 0) return;
      yield* columnsTable(names, types, chunk.convertColumns(duck.JSDuckDBValueConverter)).batches;
    }
  } finally {
    await releaseTables(con, [...loaded.values()]).catch(() => undefined);
    con.closeSync();
  }
}

/**
 * Loads the query's tables on `con` (recording them in `loaded`) and registers its functions. A
 * query with async functions is run here until every value is there: its final reader is returned;
 * otherwise undefined (the caller runs the query).
 */
async function prepareAndRun(
  ds: Dataset,
  query: string,
  options: SqlOptions,
  con: DuckDBConnection,
  loaded: Map<string, LoadedTable>,
): Promise<DuckDBResultReader | undefined> {
  const tables = tablesOf(ds, options);
  const duck = await duckModule();
  const parsed = await parseQuery(con, query);
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    throw new StrataError('INVALID_ARGUMENT', `sql: batchRows ${batchRows} must be a positive integer`, {
      field: 'batchRows',
    });
  }
  for (const [alias, t] of Object.entries(tables)) {
    const source = await pushdown(t, alias, parsed, options.signal);
    const wanted = source.columns.filter((c) =>
      parsed.names.has(c.toLowerCase()) ? true : parsed.star && sqlShowable(source, c),
    );
    if (parsed.names.has(ROWID)) wanted.push(ROWID);
    const table = await loadTable(duck, con, source, alias, wanted, {
      batchRows,
      cache: options.cache ?? true,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    loaded.set(alias, table);
    await con.run(`CREATE OR REPLACE TEMP VIEW ${ident(alias)} AS SELECT * FROM ${table.table}`);
  }
  await registerMacros(con);
  const fns = sqlFunctions().filter((f) => parsed.functions.has(f.name.toLowerCase()));
  if (parsed.functions.has('embed') && !fns.some((f) => f.name === 'embed')) {
    throw new StrataError('UNAVAILABLE', 'embed() in SQL needs the embed module, which is not loaded', {
      hint: "import from 'strata' (the package entry loads it), or import 'strata/src/embed/sql-embed.js'",
    });
  }
  if (fns.length === 0) return undefined;
  const values = new AsyncValues();
  const ctx = functionContext(tables, options.signal);
  values.register(duck, con, ctx, fns);
  for (let pass = 1; ; pass++) {
    const reader = await con.runAndReadAll(query);
    if (!values.hasMissing) return reader;
    if (pass === MAX_PASSES) {
      throw new StrataError('IO', `sql: functions still had missing values after ${pass} runs of the query`, {
        hint: 'the query asks for different rows on each run (e.g. random()); make it deterministic',
      });
    }
    await values.fill(ctx, duck);
  }
}

function tablesOf(ds: Dataset, options: SqlOptions): Record<string, Dataset> {
  const out: Record<string, Dataset> = { ds };
  for (const [name, t] of Object.entries(options.tables ?? {})) {
    if (name.toLowerCase() === 'ds' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `sql: table name ${JSON.stringify(name)} is taken or not an identifier`,
        {
          field: 'tables',
          hint: "name tables with letters, digits and '_'; 'ds' is the dataset sql is called on",
        },
      );
    }
    out[name] = t;
  }
  return out;
}

function functionContext(tables: Record<string, Dataset>, signal?: AbortSignal): SqlFunctionContext {
  const dataset = (source: string): Dataset => {
    const t = tables[source];
    if (!t) throw new StrataError('NOT_FOUND', `sql: no table ${source} for a media reference`, { field: source });
    return t;
  };
  return {
    dataset,
    signal,
    async mediaBytes(ref: MediaRef) {
      const t = dataset(ref.source);
      const pos = await t.rowPosition(Number(ref.row_id), { signal });
      if (pos === undefined) return null;
      const [sample] = await t.readSamples(ref.column, [t.rows()[pos]], { signal });
      return sample ? sample.bytes : null;
    },
  };
}

/** DuckDB errors (binder, catalog, conversion) become INVALID_ARGUMENT naming DuckDB's message. */
function asStrataError(err: unknown): unknown {
  if (err instanceof StrataError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StrataError('INVALID_ARGUMENT', `sql: ${message}`, {
    cause: err,
    field: 'query',
    hint: 'check table and column names (table ds is the dataset; media columns are structs: image.width)',
  });
}
