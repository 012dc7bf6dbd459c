/**
 * Parquet files through parquetjs-lite (row-oriented, so meant for modest files): flat schemas with
 * optional and repeated (list) fields.
 */
import type * as A from 'apache-arrow';
import type { ParquetField, ParquetFieldSpec, ParquetReader } from 'parquetjs-lite';
import { StrataError } from '../../errors.js';
import { parquetLib } from '../../interop/parquetjs.js';
import { tableFromRecords } from '../build.js';
import { categoryOf, dtypeOfArrow, listElement } from '../dtypes.js';
import type { Dtype } from '../types.js';
import { readFailure } from './errors.js';

function dtypeOfField(f: ParquetField): Dtype {
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

async function open(path: string): Promise<ParquetReader> {
  try {
    // raw statistics: parquetjs-lite cannot decode INT64 timestamp statistics into Dates
    return await parquetLib().ParquetReader.openFile(path, { rawStatistics: true });
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
      for (const [k, v] of Object.entries(row)) if (Buffer.isBuffer(v)) row[k] = v.toString('utf8');
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
  const fields: Record<string, ParquetFieldSpec> = {};
  const kinds = table.schema.fields.map((f) => {
    const dtype = dtypeOfArrow(f.type as A.DataType);
    const list = categoryOf(dtype) === 'list';
    fields[f.name] = list ? { type: pqType(dtype), repeated: true } : { type: pqType(dtype), optional: true };
    return { name: f.name, list, cat: categoryOf(listElement(dtype) ?? dtype) };
  });
  const { ParquetSchema, ParquetWriter } = parquetLib();
  const writer = await ParquetWriter.openFile(new ParquetSchema(fields), path).catch((err) => readFailure(path, err));
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
        const v: unknown = cols[j].get(i);
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
