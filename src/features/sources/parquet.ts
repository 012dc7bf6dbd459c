/**
 * Parquet files through parquetjs-lite (row-oriented, so meant for modest files): flat schemas with
 * optional and repeated (list) fields.
 */
import { createRequire } from 'node:module';
import type * as A from 'apache-arrow';
import { StrataError } from '../../errors.js';
import { tableFromRecords } from '../build.js';
import { categoryOf, dtypeOfArrow, listElement } from '../dtypes.js';
import type { Dtype } from '../types.js';
import { readFailure } from './errors.js';

interface PqField {
  primitiveType?: string;
  originalType?: string;
  repetitionType?: string;
  fields?: Record<string, PqField>;
}
interface PqReader {
  getSchema(): { fields: Record<string, PqField> };
  getCursor(): { next(): Promise<Record<string, unknown> | null> };
  getRowCount(): number | { toNumber(): number };
  close(): Promise<void>;
}
interface PqWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
interface Parquet {
  ParquetReader: { openFile(path: string, options?: { rawStatistics?: boolean }): Promise<PqReader> };
  ParquetWriter: { openFile(schema: unknown, path: string): Promise<PqWriter> };
  ParquetSchema: new (fields: Record<string, unknown>) => unknown;
}

const load = createRequire(import.meta.url);
const parquet = load('parquetjs-lite') as Parquet;

// parquetjs-lite 0.8 decodes INT64 as BigInt but converts TIMESTAMP_MILLIS with `new Date(+value)`,
// which throws on BigInt: every file with a millisecond timestamp column fails to open. Make the
// conversion BigInt-safe (same result for numbers).
{
  const types = load('parquetjs-lite/lib/types.js') as {
    PARQUET_LOGICAL_TYPES: Record<string, { fromPrimitive?: (v: unknown) => unknown }>;
  };
  const millis = types.PARQUET_LOGICAL_TYPES.TIMESTAMP_MILLIS;
  if (millis) millis.fromPrimitive = (v) => new Date(Number(v));
}

function dtypeOfField(f: PqField): Dtype {
  const t = f.originalType ?? f.primitiveType ?? 'UTF8';
  let d: Dtype;
  switch (t) {
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
    case 'TIMESTAMP_MICROS':
    case 'DATE':
      d = 'timestamp';
      break;
    default:
      d = 'string';
  }
  return f.repetitionType === 'REPEATED' ? `list<${d}>` : d;
}

async function open(path: string): Promise<PqReader> {
  try {
    // raw statistics: parquetjs-lite cannot decode INT64 timestamp statistics into Dates
    return await parquet.ParquetReader.openFile(path, { rawStatistics: true });
  } catch (err) {
    if ((err as { code?: string }).code) readFailure(path, err);
    throw new StrataError('CORRUPT', `${path} is not a readable Parquet file`, { uri: path, cause: err });
  }
}

/** Column dtypes from the file footer (no rows read). */
export async function readParquetSchema(path: string): Promise<Record<string, Dtype>> {
  const reader = await open(path);
  try {
    const out: Record<string, Dtype> = {};
    for (const [name, f] of Object.entries(reader.getSchema().fields)) out[name] = dtypeOfField(f);
    return out;
  } finally {
    await reader.close();
  }
}

export async function readParquetFile(
  path: string,
  schema?: Readonly<Record<string, Dtype>>,
  signal?: AbortSignal,
): Promise<A.Table> {
  const reader = await open(path);
  try {
    const dtypes: Record<string, Dtype> = {};
    const fields = reader.getSchema().fields;
    for (const [name, f] of Object.entries(fields)) dtypes[name] = schema?.[name] ?? dtypeOfField(f);
    const rows: Record<string, unknown>[] = [];
    const cursor = reader.getCursor();
    for (let row = await cursor.next(); row; row = await cursor.next()) {
      for (const k of Object.keys(row)) if (Buffer.isBuffer(row[k])) row[k] = (row[k] as Buffer).toString('utf8');
      rows.push(row);
      if ((rows.length & 0xffff) === 0 && signal?.aborted)
        throw new StrataError('ABORTED', `reading ${path} was aborted`, { uri: path });
    }
    return tableFromRecords(rows, { columns: Object.keys(fields), dtypes });
  } finally {
    await reader.close();
  }
}

function pqType(dtype: Dtype): string {
  const el = listElement(dtype);
  const d = el ?? dtype;
  switch (categoryOf(d)) {
    case 'bool':
      return 'BOOLEAN';
    case 'int':
      return d === 'int32' ? 'INT32' : 'INT64';
    case 'float':
      return d === 'float32' ? 'FLOAT' : 'DOUBLE';
    case 'timestamp':
      return 'TIMESTAMP_MILLIS';
    default:
      return 'UTF8';
  }
}

/** Writes an Arrow table as Parquet (nulls kept; lists as repeated fields). */
export async function writeParquetFile(table: A.Table, path: string, signal?: AbortSignal): Promise<void> {
  const fields: Record<string, unknown> = {};
  const kinds = table.schema.fields.map((f) => {
    const dtype = dtypeOfArrow(f.type);
    const list = categoryOf(dtype) === 'list';
    fields[f.name] = list ? { type: pqType(dtype), repeated: true } : { type: pqType(dtype), optional: true };
    return { name: f.name, list, cat: categoryOf(listElement(dtype) ?? dtype) };
  });
  const writer = await parquet.ParquetWriter.openFile(new parquet.ParquetSchema(fields), path).catch((err) =>
    readFailure(path, err),
  );
  const cols = kinds.map((k) => table.getChild(k.name)!);
  const conv = (v: unknown, cat: string): unknown => {
    if (typeof v === 'bigint') return Number(v);
    if (cat === 'timestamp' && typeof v === 'number') return new Date(v);
    if (cat === 'string' && typeof v !== 'string') return JSON.stringify(v);
    return v;
  };
  try {
    for (let i = 0; i < table.numRows; i++) {
      if ((i & 0xffff) === 0 && signal?.aborted)
        throw new StrataError('ABORTED', `writing ${path} was aborted`, { uri: path });
      const row: Record<string, unknown> = {};
      kinds.forEach((k, j) => {
        const v = cols[j].get(i);
        if (v === null || v === undefined) {
          if (k.list) row[k.name] = [];
          return;
        }
        row[k.name] = k.list ? Array.from(v as Iterable<unknown>, (x) => conv(x, k.cat)) : conv(v, k.cat);
      });
      await writer.appendRow(row);
    }
  } finally {
    await writer.close();
  }
}
