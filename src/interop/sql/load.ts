import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import type { Dataset } from '../../dataset/dataset.js';
import { StrataError, throwIfAborted } from '../../errors.js';
import { type Progress, ProgressClock } from '../../progress.js';
import { columnCells } from './cells.js';
import { ROWID, type SqlColumn, sqlColumns } from './columns.js';
import { type DuckModule, ident } from './duckdb.js';

/** What `loadTable` copied: the DuckDB table (schema-qualified) and its columns. */
export interface LoadedTable {
  readonly table: string;
  readonly columns: readonly SqlColumn[];
  readonly rows: number;
}

export interface LoadOptions {
  readonly batchRows: number;
  readonly cache: boolean;
  readonly onProgress?: (p: Progress) => void;
  readonly signal?: AbortSignal;
}

/** Cached tables (newest last); at most MAX_CACHED are kept, the oldest is dropped. */
const cached = new Map<string, Promise<LoadedTable>>();
const MAX_CACHED = 4;

let nextTable = 0;

/**
 * Copies the named columns of a dataset or view into a DuckDB table, `batchRows` rows per appended
 * chunk (the JS side holds one batch per column at a time). With `cache`, the table is kept for the
 * next query on the same version, view and columns.
 */
export async function loadTable(
  duck: DuckModule,
  con: DuckDBConnection,
  ds: Dataset,
  alias: string,
  names: readonly string[],
  options: LoadOptions,
): Promise<LoadedTable> {
  const cols = sqlColumns(ds, names);
  if (!options.cache || ds.hasPendingChanges) return copy(duck, con, ds, alias, cols, options, true);
  const key = cacheKey(ds, alias, names);
  let p = cached.get(key);
  if (p) {
    cached.delete(key);
    cached.set(key, p);
  } else {
    p = copy(duck, con, ds, alias, cols, options, false);
    cached.set(key, p);
    p.catch(() => cached.delete(key));
  }
  const t = await p;
  inUse.set(t.table, (inUse.get(t.table) ?? 0) + 1);
  while (cached.size > MAX_CACHED) {
    const [oldKey, old] = cached.entries().next().value as [string, Promise<LoadedTable>];
    cached.delete(oldKey);
    const o = await old.catch(() => undefined);
    if (o) toDrop.add(o.table);
  }
  await dropUnused(con);
  return t;
}

/** Cached tables a running query reads (their count of queries), and evicted tables to drop when unused. */
const inUse = new Map<string, number>();
const toDrop = new Set<string>();

/** Ends a query's use of the tables `loadTable` returned (drops evicted ones nobody reads). */
export async function releaseTables(con: DuckDBConnection, tables: readonly LoadedTable[]): Promise<void> {
  for (const t of tables) {
    const n = (inUse.get(t.table) ?? 0) - 1;
    if (n > 0) inUse.set(t.table, n);
    else inUse.delete(t.table);
  }
  await dropUnused(con);
}

async function dropUnused(con: DuckDBConnection): Promise<void> {
  for (const table of [...toDrop]) {
    if (inUse.has(table)) continue;
    toDrop.delete(table);
    await con.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

function cacheKey(ds: Dataset, alias: string, names: readonly string[]): string {
  const rows = ds.rows();
  let h = 0x811c9dc5;
  for (let i = 0; i < rows.length; i++) h = Math.imul(h ^ rows[i], 0x01000193) >>> 0;
  return JSON.stringify([ds.uri, ds.version, ds.branchName, rows.length, h, alias, [...names].sort()]);
}

async function copy(
  duck: DuckModule,
  con: DuckDBConnection,
  ds: Dataset,
  alias: string,
  cols: readonly SqlColumn[],
  options: LoadOptions,
  temp: boolean,
): Promise<LoadedTable> {
  const name = `strata_${nextTable++}`;
  const table = temp ? ident(name) : `main.${ident(name)}`;
  const defs = cols.map((c) => `${ident(c.name)} ${c.type(duck).toString()}`);
  if (defs.length === 0) defs.push(`${ident('_strata_row')} BOOLEAN`);
  await con.run(`CREATE ${temp ? 'TEMP ' : ''}TABLE ${table} (${defs.join(', ')})`);
  const appender = temp ? await con.createAppender(name, 'main', 'temp') : await con.createAppender(name, 'main');
  try {
    await append(duck, appender, ds, alias, cols, options);
  } finally {
    appender.closeSync();
  }
  return { table, columns: cols, rows: ds.length };
}

async function append(
  duck: DuckModule,
  appender: Awaited<ReturnType<DuckDBConnection['createAppender']>>,
  ds: Dataset,
  alias: string,
  cols: readonly SqlColumn[],
  options: LoadOptions,
): Promise<void> {
  const n = ds.length;
  const B = options.batchRows;
  const needIds = cols.some((c) => c.kind === 'rowid' || c.kind === 'media');
  const ids = needIds ? await ds.rowIds({ signal: options.signal }) : undefined;
  const sources = cols.map((c) => (c.kind === 'rowid' ? undefined : columnCells(ds, c.name, B, options.signal)));
  const types = cols.length > 0 ? cols.map((c) => c.type(duck)) : [duck.BOOLEAN];
  const chunk = duck.DuckDBDataChunk.create(types, B);
  const clock = new ProgressClock(`sql-load ${alias}`, 'rows', n);
  try {
    for (let start = 0; start < n; start += B) {
      throwIfAborted(options.signal, 'sql');
      const rows = Math.min(B, n - start);
      const batches = await Promise.all(sources.map((s) => (s ? s.next() : Promise.resolve(undefined))));
      chunk.rowCount = rows;
      if (cols.length === 0) {
        const v = chunk.getColumnVector(0);
        for (let i = 0; i < rows; i++) v.setItem(i, true);
        v.flush();
      }
      for (let k = 0; k < cols.length; k++) {
        const cells = batches[k]?.value as unknown[] | undefined;
        if (cols[k].kind !== 'rowid' && (!cells || cells.length !== rows)) {
          throw new StrataError('CORRUPT', `column ${cols[k].name} ended early while loading it for SQL`, {
            column: cols[k].name,
            row: start,
          });
        }
        fill(duck, chunk.getColumnVector(k), cols[k], cells ?? [], ids, start, rows, alias);
      }
      appender.appendDataChunk(chunk);
      chunk.reset();
      options.onProgress?.(clock.at(start + rows));
    }
    appender.flushSync();
  } finally {
    await Promise.all(sources.map((s) => (s ? s.return(undefined) : Promise.resolve(undefined))));
  }
}

function fill(
  duck: DuckModule,
  vector: DuckDBVector,
  col: SqlColumn,
  cells: readonly unknown[],
  ids: Float64Array | undefined,
  start: number,
  rows: number,
  alias: string,
): void {
  if (col.direct) {
    for (let i = 0; i < rows; i++) {
      const v = cells[i];
      if (v !== null && typeof v === 'object') {
        throw new StrataError(
          'UNSUPPORTED',
          `column ${col.name} holds a tensor at row ${start + i}; SQL shows scalars`,
          {
            column: col.name,
            row: start + i,
            hint: 'declare the column with a shape to see it as a list',
          },
        );
      }
      vector.setItem(i, (v ?? null) as never);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const rowId = ids ? ids[start + i] : start + i;
      vector.setItem(i, col.value(duck, col.kind === 'rowid' ? rowId : (cells[i] ?? null), rowId, alias));
    }
  }
  vector.flush();
}

export { ROWID };
