/**
 * Parquet sources through DuckDB (`read_parquet`, streamed a data chunk at a time): the file's
 * columns as Arrow record batches of the dtypes the parquetjs-lite reader gives them (int64 exact,
 * timestamps as epoch milliseconds truncated toward zero, `timestamp[us]` and int64-declared
 * timestamps as exact microseconds, strings as UTF-8, nulls kept). DuckDB's vectors are copied as
 * typed arrays (duckdb-vectors.ts); strings byte for byte. Memory is one batch plus DuckDB's scan buffers, not the file.
 * A column whose DuckDB type and dtype have no copy here (nested groups, lists, blobs, conversions
 * such as a number declared as text) makes `duckParquetBatches` return null: the caller reads the
 * file with parquetjs-lite instead.
 */
import * as A from 'apache-arrow';
import type { DuckDBResult } from '@duckdb/node-api';
import { StrataError, throwIfAborted } from '../../errors.js';
import {
  type DuckBindings,
  type DuckModule,
  duckBindings,
  duckConnection,
  duckModule,
  literal,
} from '../../interop/sql/duckdb.js';
import { arrowOfDtype, categoryOf } from '../../tables/dtypes.js';
import type { TableDtype } from '../definitions/types.js';
import { Builder, type Column, type Dst, type Src } from './duckdb-vectors.js';

function srcOf(typeId: number, T: DuckModule['DuckDBTypeId']): Src | null {
  const map: [number, Src][] = [
    [T.TINYINT, 'i8'], [T.SMALLINT, 'i16'], [T.INTEGER, 'i32'], [T.BIGINT, 'i64'], [T.UTINYINT, 'u8'],
    [T.USMALLINT, 'u16'], [T.UINTEGER, 'u32'], [T.FLOAT, 'f32'], [T.DOUBLE, 'f64'], [T.BOOLEAN, 'bool'],
    [T.TIMESTAMP, 'ts_us'], [T.TIMESTAMP_TZ, 'ts_us'], [T.TIMESTAMP_MS, 'ts_ms'], [T.TIMESTAMP_S, 'ts_s'],
    [T.DATE, 'date'], [T.VARCHAR, 'str'],
  ]; // prettier-ignore
  return map.find(([id]) => id === typeId)?.[1] ?? null;
}

/** The Arrow buffer a (DuckDB type, dtype) pair is copied into, or null when there is no exact copy. */
function dstOf(src: Src, dtype: TableDtype): Dst | null {
  const time = src === 'ts_us' || src === 'ts_ms' || src === 'ts_s' || src === 'date';
  const cat = categoryOf(dtype);
  if (src === 'str') return cat === 'string' && dtype !== 'json' ? 'str' : null;
  if (src === 'bool') return cat === 'bool' ? 'bool' : null;
  if (dtype === 'timestamp[us]') return time ? 'ts_us' : null;
  if (cat === 'timestamp') return time ? 'ts_ms' : null;
  if (time) return cat === 'int' && arrowOfDtype(dtype) instanceof A.Int64 ? 'int64' : null;
  if (cat === 'float') return arrowOfDtype(dtype) instanceof A.Float32 ? 'float32' : 'float64';
  if (cat !== 'int') return null;
  if (arrowOfDtype(dtype) instanceof A.Int64) return src === 'f32' || src === 'f64' ? null : 'int64';
  return src === 'i8' || src === 'i16' || src === 'i32' || src === 'u8' || src === 'u16' ? 'int32' : null;
}

/**
 * Record batches of `batchRows` rows of the Parquet file, columns in file order with `dtypes` (the
 * parquetjs-lite footer's feature dtypes, declared ones over them); null when a column has no exact
 * copy here or DuckDB does not load (the caller falls back to parquetjs-lite).
 */
export async function duckParquetBatches(
  file: string,
  dtypes: Readonly<Record<string, TableDtype>>,
  o: { readonly batchRows?: number; readonly signal?: AbortSignal } = {},
): Promise<AsyncGenerator<A.RecordBatch> | null> {
  const duck = await duckModule().catch(() => null);
  if (!duck) return null;
  const bindings = await duckBindings();
  const con = await duckConnection();
  let result: DuckDBResult;
  try {
    result = await con.stream(`SELECT * FROM read_parquet(${literal(file)})`);
  } catch (cause) {
    con.closeSync();
    throw new StrataError('CORRUPT', `${file} is not a readable Parquet file`, {
      file,
      cause,
      hint: 'check the path, or rewrite the file with pyarrow or DuckDB',
    });
  }
  const names = result.columnNames();
  const columns: Column[] = [];
  for (const [k, name] of names.entries()) {
    const src = srcOf(result.columnTypes()[k].typeId, duck.DuckDBTypeId);
    const dtype = dtypes[name];
    const dst = src && dtype ? dstOf(src, dtype) : null;
    if (!src || !dst) {
      con.closeSync();
      return null;
    }
    columns.push({ name, src, dst, type: arrowOfDtype(dtype) });
  }
  return chunks(result, columns, bindings, con, file, o.batchRows ?? 65_536, o.signal);
}

async function* chunks(
  result: DuckDBResult,
  columns: readonly Column[],
  bindings: DuckBindings,
  con: { closeSync(): void },
  file: string,
  batchRows: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<A.RecordBatch> {
  const fields = columns.map((c) => new A.Field(c.name, c.type, true));
  let builders = columns.map((c) => new Builder(c, batchRows));
  let filled = 0;
  let emitted = false;
  const emit = () => {
    const vectors = builders.map((b) => b.finish(filled));
    const batch = new A.RecordBatch(
      new A.Schema(fields),
      A.makeData({
        type: new A.Struct(fields),
        length: filled,
        nullCount: 0,
        children: vectors.map((v) => v.data[0] as A.Data<A.DataType>),
      }),
    );
    builders = columns.map((c) => new Builder(c, batchRows));
    filled = 0;
    emitted = true;
    return batch;
  };
  // the next chunk is fetched (on DuckDB's threads) while this one is copied and its batch used
  let next: ReturnType<DuckDBResult['fetchChunk']> | null = null;
  try {
    for (let chunk = await (next = result.fetchChunk()); chunk && chunk.rowCount > 0; chunk = await next) {
      next = result.fetchChunk();
      throwIfAborted(signal, `reading ${file}`);
      const rows = chunk.rowCount;
      for (let from = 0; from < rows;) {
        const to = Math.min(rows, from + batchRows - filled);
        columns.forEach((_c, k) => {
          const b = builders[k];
          const vector = bindings.data_chunk_get_vector(chunk.chunk, k);
          b.put(bindings, vector, rows, from, to, filled);
        });
        filled += to - from;
        from = to;
        if (filled === batchRows) yield emit();
      }
    }
    next = null;
    if (filled > 0 || !emitted) yield emit();
  } finally {
    // a fetch still in flight (the reader stopped early, or failed) ends before the connection closes
    await next?.catch(() => null);
    con.closeSync();
  }
}
