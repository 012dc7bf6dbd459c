import type { DuckDBConnection, DuckDBDataChunk, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import type { Dataset } from '../../dataset/dataset.js';
import type { ValueRun } from '../../dataset/read.js';
import { StrataError, throwIfAborted } from '../../errors.js';
import type { TypedArray } from '../../format/dtype.js';
import { type Progress, ProgressClock } from '../../progress.js';
import { infoColumnName } from '../../dataset/schema.js';
import { columnCells, isWhole } from './cells.js';
import { ROWID, type SqlColumn, sqlColumns } from './columns.js';
import { type DuckBindings, type DuckModule, duckBindings, ident } from './duckdb.js';

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

/** Row-position hashes of views (a view's rows never change), so a repeated query does not rehash them. */
const rowHashes = new WeakMap<Dataset, number>();

/**
 * The cache key of a table: a whole version is keyed by the dataset, version and columns; a view
 * (a filtered, sorted or sliced one) also by a hash of its row positions.
 */
function cacheKey(ds: Dataset, alias: string, names: readonly string[]): string {
  const base = [ds.uri, ds.version, ds.branchName, alias, [...names].sort()];
  if (ds.isWholeVersion) return JSON.stringify([...base, 'whole']);
  let h = rowHashes.get(ds);
  const rows = ds.rows();
  if (h === undefined) {
    h = 0x811c9dc5;
    for (let i = 0; i < rows.length; i++) h = Math.imul(h ^ rows[i], 0x01000193) >>> 0;
    rowHashes.set(ds, h);
  }
  return JSON.stringify([...base, rows.length, h]);
}

/** Distinct strings a column is loaded as codes for; past it, the rest of the column is copied string by string. */
const DICT_MAX = 4096;

/** Rows of one column for one appended chunk: a typed array (null rows flagged in `nulls`) or cells. */
interface Batch {
  readonly values: TypedArray | readonly unknown[];
  readonly nulls?: Uint8Array;
}

/**
 * How one SQL column is appended. `typed`: a scalar column, whose typed batches are copied into the
 * vector whole. `dict`: a string column, appended as codes into a dictionary of its distinct
 * strings (and, once there are more than DICT_MAX, as strings into a second column); the final
 * table looks the codes up (DuckDB's list_extract) in one CREATE TABLE AS. `cells`: one DuckDB
 * value per cell (lists, structs, JSON text, row ids).
 */
type Slot =
  | { readonly kind: 'typed' | 'cells'; readonly col: SqlColumn; readonly at: number }
  | {
      readonly kind: 'dict';
      readonly col: SqlColumn;
      readonly at: number;
      readonly codes: Map<string, number>;
      readonly strings: string[];
      full: boolean;
    };

async function copy(
  duck: DuckModule,
  con: DuckDBConnection,
  ds: Dataset,
  alias: string,
  cols: readonly SqlColumn[],
  options: LoadOptions,
  temp: boolean,
): Promise<LoadedTable> {
  const bindings = await duckBindings();
  const name = `strata_${nextTable++}`;
  const table = temp ? ident(name) : `main.${ident(name)}`;
  let at = 0;
  const slots = cols.map((col): Slot => {
    const k = at;
    if (col.kind === 'string') {
      at += 2;
      return { kind: 'dict', col, at: k, codes: new Map(), strings: [], full: false };
    }
    at += 1;
    return { kind: col.kind === 'scalar' ? 'typed' : 'cells', col, at: k };
  });
  const staged = slots.some((s) => s.kind === 'dict');
  const types = slots.flatMap((s) => (s.kind === 'dict' ? [duck.UINTEGER, duck.VARCHAR] : [s.col.type(duck)]));
  if (types.length === 0) types.push(duck.BOOLEAN);
  const stage = staged ? `strata_${nextTable++}_stage` : name;
  const stageTemp = staged || temp;
  const defs =
    cols.length === 0
      ? [`${ident('_strata_row')} BOOLEAN`]
      : types.map((t, k) => `${ident(staged ? `s${k}` : cols[k].name)} ${t.toString()}`);
  await con.run(
    `CREATE ${stageTemp ? 'TEMP ' : ''}TABLE ${stageTemp ? ident(stage) : `main.${ident(stage)}`} (${defs.join(', ')})`,
  );
  try {
    const appender = stageTemp
      ? await con.createAppender(stage, 'main', 'temp')
      : await con.createAppender(stage, 'main');
    try {
      await append(duck, bindings, appender, ds, alias, slots, types, options);
    } finally {
      appender.closeSync();
    }
    if (staged) {
      const params: DuckDBValue[] = [];
      const exprs = slots.map((s) => {
        if (s.kind !== 'dict') return `s${s.at} AS ${ident(s.col.name)}`;
        params.push(duck.listValue(s.strings));
        return `CASE WHEN s${s.at} IS NULL THEN s${s.at + 1} ELSE list_extract($${params.length}::VARCHAR[], s${s.at} + 1) END AS ${ident(s.col.name)}`;
      });
      await con.run(
        `CREATE ${temp ? 'TEMP ' : ''}TABLE ${table} AS SELECT ${exprs.join(', ')} FROM ${ident(stage)}`,
        params,
      );
    }
  } finally {
    if (staged) await con.run(`DROP TABLE IF EXISTS temp.${ident(stage)}`);
  }
  return { table, columns: cols, rows: ds.length };
}

async function append(
  duck: DuckModule,
  bindings: DuckBindings,
  appender: Awaited<ReturnType<DuckDBConnection['createAppender']>>,
  ds: Dataset,
  alias: string,
  slots: readonly Slot[],
  types: readonly ReturnType<SqlColumn['type']>[],
  options: LoadOptions,
): Promise<void> {
  const n = ds.length;
  const B = options.batchRows;
  const needIds = slots.some((s) => s.col.kind === 'rowid' || s.col.kind === 'media');
  const ids = needIds ? await ds.rowIds({ signal: options.signal }) : undefined;
  const sources = slots.map((s) => (s.col.kind === 'rowid' ? undefined : columnBatches(ds, s.col, B, options.signal)));
  const chunk = duck.DuckDBDataChunk.create(types, B);
  const clock = new ProgressClock(`sql-load ${alias}`, 'rows', n);
  try {
    for (let start = 0; start < n; start += B) {
      throwIfAborted(options.signal, 'sql');
      const rows = Math.min(B, n - start);
      const batches = await Promise.all(sources.map((s) => (s ? s.next() : Promise.resolve(undefined))));
      chunk.reset();
      chunk.rowCount = rows;
      if (slots.length === 0) {
        const v = chunk.getColumnVector(0);
        for (let i = 0; i < rows; i++) v.setItem(i, true);
        v.flush();
      }
      for (let k = 0; k < slots.length; k++) {
        const s = slots[k];
        const batch = batches[k]?.value as Batch | undefined;
        if (s.col.kind !== 'rowid' && (!batch || batch.values.length !== rows)) {
          throw new StrataError('CORRUPT', `column ${s.col.name} ended early while loading it for SQL`, {
            column: s.col.name,
            row: start,
          });
        }
        if (s.kind === 'typed' && batch && !Array.isArray(batch.values)) {
          const t = batch.values as TypedArray;
          const raw = bindings.data_chunk_get_vector(chunk.chunk, s.at);
          bindings.copy_data_to_vector(raw, 0, t.buffer as ArrayBuffer, t.byteOffset, rows * t.BYTES_PER_ELEMENT);
          if (batch.nulls) setValidity(bindings, raw, rows, batch.nulls);
        } else if (s.kind === 'dict') {
          fillStrings(duck, bindings, chunk, s, cellsOf(batch!, s.col), ids, start, rows, alias);
        } else {
          const cells = batch ? cellsOf(batch, s.col) : [];
          fill(duck, chunk.getColumnVector(s.at), s.col, cells, ids, start, rows, alias);
        }
      }
      appender.appendDataChunk(chunk);
      options.onProgress?.(clock.at(start + rows));
    }
    appender.flushSync();
  } finally {
    await Promise.all(sources.map((s) => (s ? s.return(undefined) : Promise.resolve(undefined))));
  }
}

type RawVector = ReturnType<DuckBindings['data_chunk_get_vector']>;

/** Marks the rows flagged in `nulls` (1: null) invalid; `nulls` undefined: every row invalid. */
function setValidity(bindings: DuckBindings, raw: RawVector, rows: number, nulls?: Uint8Array): void {
  const bytes = Math.ceil(rows / 64) * 8;
  const mask = new Uint8Array(bytes);
  if (nulls) {
    mask.fill(0xff);
    for (let i = 0; i < rows; i++) if (nulls[i]) mask[i >> 3] &= ~(1 << (i & 7));
  }
  bindings.vector_ensure_validity_writable(raw);
  bindings.copy_data_to_vector_validity(raw, 0, mask.buffer, 0, bytes);
}

/** A string column's batch: codes into its dictionary, or (once the dictionary is full) the strings. */
function fillStrings(
  duck: DuckModule,
  bindings: DuckBindings,
  chunk: DuckDBDataChunk,
  s: Extract<Slot, { kind: 'dict' }>,
  cells: readonly unknown[],
  ids: Float64Array | undefined,
  start: number,
  rows: number,
  alias: string,
): void {
  const codesVector = bindings.data_chunk_get_vector(chunk.chunk, s.at);
  const stringsVector = bindings.data_chunk_get_vector(chunk.chunk, s.at + 1);
  if (s.full) {
    setValidity(bindings, codesVector, rows);
    fill(duck, chunk.getColumnVector(s.at + 1), s.col, cells, ids, start, rows, alias);
    return;
  }
  const codes = new Uint32Array(rows);
  let nulls: Uint8Array | undefined;
  for (let i = 0; i < rows; i++) {
    const c = cells[i];
    const v = s.col.direct ? c : s.col.value(duck, c ?? null, ids ? ids[start + i] : start + i, alias);
    if (v === null || v === undefined) {
      (nulls ??= new Uint8Array(rows))[i] = 1;
      continue;
    }
    if (typeof v !== 'string') throw tensorError(s.col, start + i);
    let code = s.codes.get(v);
    if (code === undefined) {
      code = s.strings.length;
      s.codes.set(v, code);
      s.strings.push(v);
    }
    codes[i] = code;
  }
  bindings.copy_data_to_vector(codesVector, 0, codes.buffer, 0, codes.byteLength);
  if (nulls) setValidity(bindings, codesVector, rows, nulls);
  setValidity(bindings, stringsVector, rows);
  if (s.strings.length > DICT_MAX) {
    s.full = true;
    s.codes.clear();
  }
}

/** A batch as cells (typed values with their nulls, bools as booleans). */
function cellsOf(batch: Batch, col: SqlColumn): readonly unknown[] {
  if (Array.isArray(batch.values)) return batch.values as unknown[];
  const t = batch.values as TypedArray;
  const out = new Array<unknown>(t.length);
  for (let i = 0; i < t.length; i++) {
    out[i] = batch.nulls?.[i] ? null : col.dtype === 'bool' ? t[i] === 1 : t[i];
  }
  return out;
}

/**
 * Batches of `batchRows` rows of one column in row order: a whole version is read by `scanValues`
 * (typed arrays for scalar columns, about a chunk in memory plus read-ahead), a view by its row
 * positions. Media columns yield their info records.
 */
async function* columnBatches(
  ds: Dataset,
  col: SqlColumn,
  batchRows: number,
  signal?: AbortSignal,
): AsyncGenerator<Batch> {
  const rows = ds.rows();
  if (!ds.isWholeVersion && !isWhole(ds, rows)) {
    for await (const values of columnCells(ds, col.name, batchRows, signal)) yield { values };
    return;
  }
  const stored = ds.columnInfo(col.name).media ? infoColumnName(col.name) : col.name;
  yield* rebatch(ds.scanValues(stored, { start: 0, end: rows.length, signal }), batchRows, col.dtype === 'bool');
}

/** Runs cut and joined into batches of `size` rows (the last one shorter). */
async function* rebatch(runs: AsyncIterable<ValueRun>, size: number, bool: boolean): AsyncGenerator<Batch> {
  let parts: Batch[] = [];
  let held = 0;
  for await (const run of runs) {
    let off = 0;
    while (off < run.length) {
      const take = Math.min(size - held, run.length - off);
      parts.push(slice(run, off, take));
      held += take;
      off += take;
      if (held === size) {
        yield join(parts, held, bool);
        parts = [];
        held = 0;
      }
    }
  }
  if (held > 0) yield join(parts, held, bool);
}

function slice(run: ValueRun, off: number, n: number): Batch {
  if (off === 0 && n === run.length) return run;
  if (Array.isArray(run.values)) return { values: (run.values as unknown[]).slice(off, off + n) };
  return { values: (run.values as TypedArray).subarray(off, off + n), nulls: run.nulls?.subarray(off, off + n) };
}

function join(parts: Batch[], n: number, bool: boolean): Batch {
  if (parts.length === 1) return parts[0];
  const first = parts[0].values;
  if (!Array.isArray(first) && parts.every((p) => p.values.constructor === first.constructor)) {
    const values = new (first.constructor as new (n: number) => TypedArray)(n);
    const nulls = parts.some((p) => p.nulls) ? new Uint8Array(n) : undefined;
    let o = 0;
    for (const p of parts) {
      (values as Float64Array).set(p.values as Float64Array, o);
      if (p.nulls) nulls!.set(p.nulls, o);
      o += p.values.length;
    }
    return { values, nulls };
  }
  const values: unknown[] = [];
  for (const p of parts) {
    if (Array.isArray(p.values)) values.push(...(p.values as unknown[]));
    else
      for (let i = 0; i < p.values.length; i++)
        values.push(p.nulls?.[i] ? null : bool ? p.values[i] === 1 : p.values[i]);
  }
  return { values };
}

function tensorError(col: SqlColumn, row: number): StrataError {
  return new StrataError('UNSUPPORTED', `column ${col.name} holds a tensor at row ${row}; SQL shows scalars`, {
    column: col.name,
    row,
    hint: 'declare the column with a shape to see it as a list',
  });
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
      if (v !== null && typeof v === 'object') throw tensorError(col, start + i);
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
