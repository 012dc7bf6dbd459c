import { StrataError, throwIfAborted } from '../errors.js';
import type { DatasetReader } from '../dataset/read.js';
import type { ColumnSpecInput } from '../dataset/schema.js';
import type { DType } from '../format/dtype.js';
import { sniffImage, sniffVideo } from '../media/image-header.js';
import { type ExtractedColumn, SHAPE_SUFFIX, extractColumns, specFromMeta, tensorValue } from './columns.js';
import { parquetLib, readRecords } from './parquetjs.js';
import type { FromTableOptions, TableImport, ToParquetOptions } from './types.js';

/**
 * Parquet through parquetjs-lite (pure JS). What it writes, per htype:
 *   image, video → BYTE_ARRAY (the file bytes)        link, text → UTF8        json → UTF8 (JSON text)
 *   class_label → UTF8 class name                     generic scalar → INT32 / INT64 / FLOAT / DOUBLE / BOOLEAN
 *   bbox → repeated FLOAT (n×4 flattened)             embedding → repeated FLOAT
 *   generic tensor → repeated <type> (flattened) plus `<name>__shape` repeated INT32
 * Scalars are OPTIONAL (null → missing). Lists are written the legacy way (a bare repeated field,
 * which DuckDB and pyarrow read as a list); they cannot be null, so a null list cell reads back as
 * an empty list (embeddings: as null). int64 is written exactly; uint64 goes through JS numbers, so
 * values beyond 2^53 lose precision. Every column's htype, dtype and metadata are kept in the
 * file's key-value metadata (`strata.schema`), so `fromParquet` restores the dataset's schema.
 * Reading a file without that metadata, a TIMESTAMP column becomes int64 epoch microseconds.
 */
const META_KEY = 'strata.schema';

interface StoredColumn {
  readonly name: string;
  readonly htype: string;
  readonly dtype: DType;
  readonly meta: Record<string, unknown>;
  readonly tensor: boolean;
}

function primitiveOf(dtype: DType): string {
  switch (dtype) {
    case 'uint8':
    case 'int8':
    case 'uint16':
    case 'int16':
    case 'int32':
      return 'INT32';
    case 'uint32':
    case 'int64':
    case 'uint64':
      return 'INT64';
    case 'float16':
    case 'float32':
      return 'FLOAT';
    case 'float64':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    default:
      return 'UTF8';
  }
}

function fieldOf(col: ExtractedColumn): { type: string; optional?: boolean; repeated?: boolean } {
  switch (col.htype) {
    case 'image':
    case 'video':
      return { type: 'BYTE_ARRAY', optional: true };
    case 'bbox':
    case 'embedding':
      return { type: 'FLOAT', repeated: true };
    case 'generic':
      return col.shapes
        ? { type: primitiveOf(col.dtype), repeated: true }
        : { type: primitiveOf(col.dtype), optional: true };
    default:
      return { type: 'UTF8', optional: true };
  }
}

function cellOf(col: ExtractedColumn, v: unknown): unknown {
  const repeated = col.htype === 'bbox' || col.htype === 'embedding' || (col.htype === 'generic' && col.shapes);
  if (v === null || v === undefined) return repeated ? [] : undefined;
  switch (col.htype) {
    case 'image':
    case 'video':
      return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
    case 'json':
      return JSON.stringify(v);
    case 'class_label': {
      const names = (col.meta.classNames as string[] | undefined) ?? [];
      const id = Number(v);
      return names[id] ?? String(id);
    }
    case 'bbox':
      return (v as number[][]).flat();
    case 'embedding':
      return Array.from(v as Float32Array);
    case 'generic': {
      const conv = (x: unknown) =>
        typeof x === 'bigint' ? (col.dtype === 'int64' ? x : Number(x)) : col.dtype === 'bool' ? Boolean(x) : x;
      return col.shapes ? Array.from(v as ArrayLike<unknown>, conv) : conv(v);
    }
    default:
      return v;
  }
}

export async function toParquet(ds: DatasetReader, path: string, options: ToParquetOptions = {}): Promise<void> {
  const { ParquetSchema, ParquetWriter } = parquetLib();
  const cols = await extractColumns(ds, options.columns, options.signal);
  const fields: Record<string, { type: string; optional?: boolean; repeated?: boolean }> = {};
  for (const col of cols) {
    fields[col.name] = fieldOf(col);
    if (col.shapes) fields[`${col.name}${SHAPE_SUFFIX}`] = { type: 'INT32', repeated: true };
  }
  if (cols.length === 0)
    throw new StrataError('INVALID_ARGUMENT', 'toParquet: no columns to write', { hint: 'select at least one column' });
  let writer;
  try {
    writer = await ParquetWriter.openFile(new ParquetSchema(fields), path, {
      useDataPageV2: false,
      rowGroupSize: options.rowGroupRows ?? 4096,
    });
  } catch (cause) {
    throw new StrataError('IO', `toParquet: cannot write ${path}`, {
      file: path,
      cause,
      hint: 'check that the folder exists and is writable',
    });
  }
  const stored: StoredColumn[] = cols.map((c) => ({
    name: c.name,
    htype: c.htype,
    dtype: c.dtype,
    meta: { ...c.meta },
    tensor: c.shapes !== undefined,
  }));
  writer.setMetadata(META_KEY, JSON.stringify({ source: ds.uri, version: ds.version, columns: stored }));
  try {
    for (let i = 0; i < ds.length; i++) {
      if ((i & 1023) === 0) throwIfAborted(options.signal, 'toParquet');
      const row: Record<string, unknown> = {};
      for (const col of cols) {
        const v = cellOf(col, col.values[i]);
        if (v !== undefined) row[col.name] = v;
        if (col.shapes) row[`${col.name}${SHAPE_SUFFIX}`] = col.shapes[i] ?? [];
      }
      await writer.appendRow(row);
    }
  } finally {
    await writer.close();
  }
}

/**
 * The schema and rows of a new dataset from a Parquet file (`Dataset.fromParquet` writes them):
 * written by Strata, or any flat file (types are inferred).
 */
export async function readParquetFile(path: string, options: FromTableOptions = {}): Promise<TableImport> {
  const { ParquetReader } = parquetLib();
  let reader;
  try {
    reader = await ParquetReader.openFile(path, { rawStatistics: true });
  } catch (cause) {
    throw new StrataError('CORRUPT', `fromParquet: ${path} is not a readable Parquet file`, {
      file: path,
      cause,
      hint: 'check the path; rewrite the file with pyarrow or DuckDB',
    });
  }
  let records: Record<string, unknown>[];
  let metaText: string | undefined;
  try {
    metaText = reader.getMetadata()[META_KEY];
  } catch {
    metaText = undefined; // parquetjs-lite throws on files without key-value metadata
  }
  const fields = reader.schema.fields;
  try {
    ({ records } = await readRecords(reader));
  } finally {
    await reader.close();
  }
  let stored: StoredColumn[];
  if (metaText) stored = (JSON.parse(metaText) as { columns: StoredColumn[] }).columns;
  else stored = inferColumns(fields, records);
  const schema: Record<string, ColumnSpecInput> = {};
  for (const c of stored) schema[c.name] = options.schema?.[c.name] ?? specFromMeta(c.name, c.htype, c.dtype, c.meta);
  const batchRows = options.batchRows ?? 4096;
  async function* batches(): AsyncGenerator<Record<string, unknown>[]> {
    for (let start = 0; start < records.length; start += batchRows) {
      throwIfAborted(options.signal, 'fromParquet');
      yield records
        .slice(start, start + batchRows)
        .map((rec) =>
          Object.fromEntries(stored.map((c) => [c.name, valueOf(c, rec[c.name], rec[`${c.name}${SHAPE_SUFFIX}`])])),
        );
    }
  }
  return { schema, message: options.message ?? 'import from parquet', batches: batches() };
}

function valueOf(c: StoredColumn, v: unknown, shape: unknown): unknown {
  const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === null || x === undefined ? [] : [x]);
  switch (c.htype) {
    case 'image':
    case 'video':
      return v === null || v === undefined
        ? null
        : new Uint8Array((v as Buffer).buffer, (v as Buffer).byteOffset, (v as Buffer).byteLength);
    case 'json':
      return v === null || v === undefined ? null : JSON.parse(textOf(v));
    case 'bbox': {
      const flat = list(v) as number[];
      const out: number[][] = [];
      for (let i = 0; i + 3 < flat.length; i += 4) out.push(flat.slice(i, i + 4));
      return out;
    }
    case 'embedding': {
      const flat = list(v) as number[];
      return flat.length === 0 ? null : Float32Array.from(flat);
    }
    case 'generic': {
      const num = (x: unknown) =>
        c.dtype === 'int64' || c.dtype === 'uint64' ? BigInt(x as number) : typeof x === 'bigint' ? Number(x) : x;
      if (!c.tensor) return v === null || v === undefined ? null : num(v);
      const flat = list(v).map(num) as number[];
      const s = list(shape) as number[];
      if (flat.length === 0 && s.length === 0) return null;
      return tensorValue(flat, s.length === 0 && flat.length !== 1 ? [flat.length] : s);
    }
    default:
      return v === null || v === undefined ? null : textOf(v);
  }
}

/** A Parquet cell as text: UTF8 as is, BYTE_ARRAY decoded, numbers and booleans printed. */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Strata columns for a Parquet file without Strata metadata (flat columns only; nested → json). */
function inferColumns(
  fields: Record<
    string,
    { name: string; primitiveType?: string; originalType?: string; repetitionType: string; fieldCount?: number }
  >,
  records: Record<string, unknown>[],
): StoredColumn[] {
  return Object.values(fields).map((f) => {
    const repeated = f.repetitionType === 'REPEATED';
    const base = { name: f.name, meta: {}, tensor: repeated };
    if (f.fieldCount !== undefined) return { ...base, htype: 'json', dtype: 'json' as DType, tensor: false };
    const dtype: DType | undefined =
      f.originalType === 'UTF8'
        ? undefined
        : f.primitiveType === 'INT32'
          ? 'int32'
          : f.primitiveType === 'INT64'
            ? 'int64'
            : f.primitiveType === 'FLOAT'
              ? 'float32'
              : f.primitiveType === 'DOUBLE'
                ? 'float64'
                : f.primitiveType === 'BOOLEAN'
                  ? 'bool'
                  : undefined;
    if (dtype) return { ...base, htype: 'generic', dtype };
    if (f.primitiveType === 'BYTE_ARRAY' && f.originalType !== 'UTF8') {
      const first = records.find((r) => r[f.name] !== null && r[f.name] !== undefined)?.[f.name] as
        Uint8Array | undefined;
      if (first && sniffImage(first)) return { ...base, htype: 'image', dtype: 'uint8' as DType, tensor: false };
      if (first && sniffVideo(first)) return { ...base, htype: 'video', dtype: 'uint8' as DType, tensor: false };
    }
    return { ...base, htype: 'text', dtype: 'string' as DType, tensor: false };
  });
}
