/**
 * Parquet through parquetjs-lite, a row group at a time: the footer and each column chunk are read
 * as byte ranges through the Storage interface. Column types come from the footer:
 *   BOOLEAN → bool · INT32, INT_8/16/32, UINT_8/16 → int32 · INT64, INT_64, UINT_32/64 → int64 (exact)
 *   FLOAT → float32 · DOUBLE → float64 · TIMESTAMP_MILLIS, DATE → timestamp · TIMESTAMP_MICROS →
 *   timestamp[us] (exact) · UTF8 and other byte arrays → string (UTF-8) · repeated fields → list<…> ·
 *   groups (LIST, MAP, structs) → json ({list:[{element}]} unwrapped).
 * A declared dtype converts the column: a timestamp as int64 is its exact epoch microseconds.
 */
import type * as A from 'apache-arrow';
import { Field } from 'apache-arrow';
import type { ParquetField, ParquetReader } from 'parquetjs-lite';
import { StrataError, throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { recordBatch } from './batches.js';
import { sizeOf } from './bytes.js';
import { JSON_EXTENSION, categoryOf, type Dtype } from './dtypes.js';
import { exactTimestamps, parquetLib } from './parquetjs.js';
import { vectorOf } from './values.js';

/** The dtype a Parquet field reads as (see the module comment). */
export function parquetDtype(f: ParquetField): Dtype {
  if (f.fields) return 'json';
  let d: Dtype;
  switch (f.originalType ?? f.primitiveType ?? 'UTF8') {
    case 'BOOLEAN':
      d = 'bool';
      break;
    case 'INT32':
    case 'INT_8':
    case 'INT_16':
    case 'INT_32':
    case 'UINT_8':
    case 'UINT_16':
      d = 'int32';
      break;
    case 'INT64':
    case 'INT_64':
    case 'UINT_32':
    case 'UINT_64':
      d = 'int64';
      break;
    case 'FLOAT':
      d = 'float32';
      break;
    case 'DOUBLE':
      d = 'float64';
      break;
    case 'TIMESTAMP_MILLIS':
    case 'DATE':
      d = 'timestamp';
      break;
    case 'TIMESTAMP_MICROS':
      d = 'timestamp[us]';
      break;
    default:
      d = 'string';
  }
  return f.repetitionType === 'REPEATED' ? `list<${d}>` : d;
}

/** Opens a stored Parquet file (footer read); CORRUPT naming the file when it is not Parquet. */
export async function openParquet(storage: Storage, key: string, signal?: AbortSignal): Promise<ParquetReader> {
  const size = await sizeOf(storage, key, signal);
  const { ParquetEnvelopeReader, ParquetReader } = parquetLib();
  const envelope = new ParquetEnvelopeReader(
    async (offset, length) => {
      const n = Math.max(0, Math.min(length, size - offset));
      const bytes = n === 0 ? new Uint8Array(0) : await storage.getRange(key, offset, n, { signal });
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    () => undefined,
    size,
  );
  try {
    // raw statistics: parquetjs-lite cannot decode INT64 timestamp statistics into Dates
    return await ParquetReader.openEnvelopeReader(envelope, { rawStatistics: true });
  } catch (cause) {
    if (cause instanceof StrataError) throw cause;
    throw new StrataError('CORRUPT', `${key} is not a readable Parquet file`, {
      uri: storage.uri,
      file: key,
      cause,
      hint: 'rewrite it with pyarrow or DuckDB',
    });
  }
}

/** Column dtypes from the footer (no rows read). */
export async function parquetSchema(
  storage: Storage,
  key: string,
  signal?: AbortSignal,
): Promise<Record<string, Dtype>> {
  const reader = await openParquet(storage, key, signal);
  try {
    return Object.fromEntries(Object.entries(reader.getSchema().fields).map(([name, f]) => [name, parquetDtype(f)]));
  } finally {
    await reader.close();
  }
}

/** Record batches of at most `batchRows` rows; one row group is decoded at a time. */
export async function* parquetBatches(
  storage: Storage,
  key: string,
  o: { readonly schema?: Readonly<Record<string, Dtype>>; readonly batchRows: number; readonly signal?: AbortSignal },
): AsyncGenerator<A.RecordBatch> {
  const reader = await openParquet(storage, key, o.signal);
  try {
    const columns = Object.entries(reader.getSchema().fields).map(([name, f]) => ({
      name,
      dtype: o.schema?.[name] ?? parquetDtype(f),
    }));
    const micros = exactTimestamps(reader);
    const cursor = reader.getCursor();
    let rows: Record<string, unknown>[] = [];
    const batch = () => {
      const vectors = columns.map((c) =>
        vectorOf(
          rows.map((r) => cell(r[c.name], c.dtype, micros.get(c.name))),
          c.dtype,
        ),
      );
      const fields = columns.map(
        (c, k) => new Field(c.name, vectors[k].type, true, c.dtype === 'json' ? new Map(JSON_EXTENSION) : undefined),
      );
      const out = recordBatch(fields, vectors, rows.length);
      rows = [];
      return out;
    };
    let any = false;
    for (let r = await cursor.next(); r; r = await cursor.next()) {
      rows.push(r);
      if (rows.length >= o.batchRows) {
        throwIfAborted(o.signal, `reading ${key}`);
        any = true;
        yield batch();
      }
    }
    if (rows.length > 0 || !any) yield batch();
  } catch (cause) {
    if (cause instanceof StrataError) throw cause;
    throw new StrataError('CORRUPT', `${key}: a row group could not be decoded`, {
      uri: storage.uri,
      file: key,
      cause,
    });
  } finally {
    await reader.close();
  }
}

/** A parquetjs-lite value as the JS value `vectorOf` takes for `dtype`. */
function cell(v: unknown, dtype: Dtype, microsPerUnit: bigint | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (microsPerUnit !== undefined) {
    const us = BigInt(v as bigint | number) * microsPerUnit;
    const cat = categoryOf(dtype);
    if (dtype === 'timestamp[us]' || cat === 'int') return us;
    // truncated toward zero, as a millisecond Date of it would be
    return cat === 'timestamp' || cat === 'float' ? Number(us / 1000n) : new Date(Number(us / 1000n)).toISOString();
  }
  return plain(v);
}

/** Buffers as UTF-8 text, {list:[{element}]} groups unwrapped, everything else as it is. */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.list) && Object.keys(o).length === 1)
      return o.list.map((e) =>
        plain((e as Record<string, unknown>)?.element ?? (e as Record<string, unknown>)?.item ?? e),
      );
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}
