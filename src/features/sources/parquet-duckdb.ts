/**
 * Parquet sources through DuckDB (`read_parquet`, streamed a data chunk at a time): the file's
 * columns as Arrow record batches of the dtypes the parquetjs-lite reader gives them (int64 exact,
 * timestamps as epoch milliseconds truncated toward zero, `timestamp[us]` and int64-declared
 * timestamps as exact microseconds, strings as UTF-8, nulls kept). DuckDB's vectors are copied as
 * typed arrays; strings byte for byte. Memory is one batch plus DuckDB's scan buffers, not the file.
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

/** How a DuckDB column's values are read: element width and kind. */
type Src =
  | 'i8'
  | 'i16'
  | 'i32'
  | 'i64'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'f32'
  | 'f64'
  | 'bool'
  | 'ts_us'
  | 'ts_ms'
  | 'ts_s'
  | 'date'
  | 'str';
/** What a column's Arrow buffer holds. */
type Dst = 'int32' | 'int64' | 'float32' | 'float64' | 'bool' | 'ts_ms' | 'ts_us' | 'str';

const WIDTH: Record<Src, number> = {
  i8: 1, i16: 2, i32: 4, i64: 8, u8: 1, u16: 2, u32: 4, f32: 4, f64: 8, bool: 1,
  ts_us: 8, ts_ms: 8, ts_s: 8, date: 4, str: 16,
}; // prettier-ignore

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

interface Column {
  readonly name: string;
  readonly src: Src;
  readonly dst: Dst;
  readonly type: A.DataType;
}

/** One batch's buffers of one column, filled chunk by chunk. */
class Builder {
  values: Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array;
  offsets: Int32Array | undefined;
  readonly valid: Uint8Array;
  nulls = 0;
  bytes = 0;

  private readonly convert: (x: number | bigint) => number | bigint;

  constructor(
    readonly col: Column,
    capacity: number,
  ) {
    this.convert = converter(col.src, col.dst);
    const n = capacity;
    const d = col.dst;
    this.valid = new Uint8Array((n + 7) >> 3).fill(0xff);
    this.offsets = d === 'str' ? new Int32Array(n + 1) : undefined;
    this.values =
      d === 'int32' ? new Int32Array(n)
      : d === 'int64' || d === 'ts_ms' || d === 'ts_us' ? new BigInt64Array(n)
      : d === 'float32' ? new Float32Array(n)
      : d === 'float64' ? new Float64Array(n)
      : d === 'bool' ? new Uint8Array((n + 7) >> 3)
      : new Uint8Array(Math.max(64, n * 8)); // prettier-ignore
  }

  /** Copies rows [from, to) of a DuckDB vector to rows at..; strings by their bytes. */
  put(duck: DuckBindings, vector: unknown, rows: number, from: number, to: number, at: number): void {
    const v = vector as Parameters<DuckBindings['vector_get_data']>[0];
    const data = duck.vector_get_data(v, rows * WIDTH[this.col.src]);
    const validity = duck.vector_get_validity(v, Math.ceil(rows / 64) * 8);
    const get = reader(this.col.src, data);
    const convert = this.convert;
    const { dst } = this.col;
    const out = this.values;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = from, j = at; i < to; i++, j++) {
      if (validity && !((validity[i >> 3] >> (i & 7)) & 1)) {
        this.valid[j >> 3] &= ~(1 << (j & 7));
        this.nulls++;
        if (this.offsets) this.offsets[j + 1] = this.bytes;
        continue;
      }
      if (dst === 'str') {
        const len = dv.getUint32(i * 16, true);
        const bytes =
          len <= 12
            ? data.subarray(i * 16 + 4, i * 16 + 4 + len)
            : duck.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + i * 16 + 8, len);
        this.grow(len);
        (this.values as Uint8Array).set(bytes, this.bytes);
        this.bytes += len;
        this.offsets![j + 1] = this.bytes;
      } else if (dst === 'bool') {
        if (data[i]) (out as Uint8Array)[j >> 3] |= 1 << (j & 7);
      } else (out as unknown as (number | bigint)[])[j] = convert(get(i));
    }
  }

  private grow(len: number): void {
    if (this.bytes + len <= this.values.byteLength) return;
    const next = new Uint8Array(Math.max(this.bytes + len, this.values.byteLength * 2));
    next.set((this.values as Uint8Array).subarray(0, this.bytes));
    this.values = next;
  }

  finish(length: number): A.Vector {
    const nullBitmap = this.nulls ? this.valid.slice(0, (length + 7) >> 3) : undefined;
    const values =
      this.col.dst === 'str' ? (this.values as Uint8Array).slice(0, this.bytes)
      : this.col.dst === 'bool' ? this.values.slice(0, (length + 7) >> 3)
      : this.values.slice(0, length); // prettier-ignore
    const valueOffsets = this.offsets?.slice(0, length + 1);
    const data = A.makeData({
      type: this.col.type,
      length,
      nullCount: this.nulls,
      nullBitmap,
      data: values,
      valueOffsets,
    } as never);
    return A.makeVector(data as A.Data);
  }
}

/** Reads element i of a DuckDB vector's data as the column's Arrow element (timestamps converted). */
function reader(src: Src, data: Uint8Array): (i: number) => number | bigint {
  const { buffer, byteOffset } = data;
  const n = data.byteLength / WIDTH[src];
  switch (src) {
    case 'i8': return ((a) => (i: number) => a[i])(new Int8Array(buffer, byteOffset, n));
    case 'u8': return ((a) => (i: number) => a[i])(new Uint8Array(buffer, byteOffset, n));
    case 'i16': return ((a) => (i: number) => a[i])(new Int16Array(buffer, byteOffset, n));
    case 'u16': return ((a) => (i: number) => a[i])(new Uint16Array(buffer, byteOffset, n));
    case 'i32': case 'date': return ((a) => (i: number) => a[i])(new Int32Array(buffer, byteOffset, n));
    case 'u32': return ((a) => (i: number) => a[i])(new Uint32Array(buffer, byteOffset, n));
    case 'f32': return ((a) => (i: number) => a[i])(new Float32Array(buffer, byteOffset, n));
    case 'f64': return ((a) => (i: number) => a[i])(new Float64Array(buffer, byteOffset, n));
    case 'bool': case 'str': return (i: number) => data[i];
    default: return ((a) => (i: number) => a[i])(new BigInt64Array(buffer, byteOffset, n));
  } // prettier-ignore
}

/** An element (from `reader`) as the destination's value: BigInt for 64-bit columns, ms or µs for timestamps. */
function converter(src: Src, dst: Dst): (x: number | bigint) => number | bigint {
  const big = dst === 'int64' || dst === 'ts_ms' || dst === 'ts_us';
  const ms = dst === 'ts_ms';
  switch (src) {
    case 'ts_us': return ms ? (x) => (x as bigint) / 1000n : (x) => x;
    case 'ts_ms': return ms ? (x) => x : (x) => (x as bigint) * 1000n;
    case 'ts_s': return ms ? (x) => (x as bigint) * 1000n : (x) => (x as bigint) * 1_000_000n;
    case 'date': return ms ? (x) => BigInt(x) * 86_400_000n : (x) => BigInt(x) * 86_400_000_000n;
    case 'i64': return big ? (x) => x : (x) => Number(x);
    default: return big ? (x) => BigInt(x) : (x) => x;
  } // prettier-ignore
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
  try {
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
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
    if (filled > 0 || !emitted) yield emit();
  } finally {
    con.closeSync();
  }
}
