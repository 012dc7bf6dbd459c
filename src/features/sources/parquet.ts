/**
 * Parquet sources: DuckDB reads them by default (parquet-duckdb.ts, streamed), src/tables'
 * parquetjs-lite reader (a row group at a time) when asked or when a column needs it; this file
 * maps the file's types to feature dtypes (timestamps in milliseconds, nested groups as JSON text)
 * and writes training sets.
 */
import path from 'node:path';
import type * as A from 'apache-arrow';
import type { ParquetFieldSpec } from 'parquetjs-lite';
import { StrataError } from '../../errors.js';
import { LocalStorage } from '../../storage/local.js';
import { parquetSchema } from '../../tables/parquet.js';
import { parquetLib } from '../../tables/parquetjs.js';
import { collectTable, readTableFile } from '../../tables/read.js';
import { categoryOf, dtypeOfArrow, listElement } from '../definitions/dtypes.js';
import type { TableDtype } from '../definitions/types.js';
import { readFailure } from './errors.js';
import { duckParquetBatches } from './parquet-duckdb.js';

/** A table reader's dtype as a feature dtype: feature timestamps are milliseconds, JSON is text. */
function featureDtype(d: TableDtype): TableDtype {
  return d === 'timestamp[us]' ? 'timestamp' : d === 'json' ? 'string' : d;
}

/** Column dtypes from the file footer (no rows read). */
export async function readParquetSchema(file: string): Promise<Record<string, TableDtype>> {
  const storage = new LocalStorage(path.dirname(path.resolve(file)));
  const dtypes = await parquetSchema(storage, path.basename(file));
  return Object.fromEntries(Object.entries(dtypes).map(([name, d]) => [name, featureDtype(d)]));
}

/** Which library decodes a Parquet source: DuckDB (the default), or parquetjs-lite. */
export type ParquetReaderName = 'duckdb' | 'parquetjs';

/**
 * The file's rows as record batches in bounded memory, typed by the footer (declared `schema` over
 * it): through DuckDB, or parquetjs-lite when asked or when a column has no exact DuckDB copy
 * (nested groups, lists, blobs; see parquet-duckdb.ts).
 */
export async function* parquetSourceBatches(
  file: string,
  schema?: Readonly<Record<string, TableDtype>>,
  options: { readonly signal?: AbortSignal; readonly reader?: ParquetReaderName; readonly batchRows?: number } = {},
): AsyncGenerator<A.RecordBatch> {
  const { signal, batchRows } = options;
  const dtypes = { ...(await readParquetSchema(file)), ...schema };
  const duck =
    options.reader === 'parquetjs' ? null : await duckParquetBatches(path.resolve(file), dtypes, { signal, batchRows });
  if (duck) yield* duck;
  else yield* readTableFile(file, { format: 'parquet', schema: dtypes, signal, batchRows });
}

export async function readParquetFile(
  file: string,
  schema?: Readonly<Record<string, TableDtype>>,
  signal?: AbortSignal,
): Promise<A.Table> {
  return collectTable(parquetSourceBatches(file, schema, { signal }));
}

function pqType(dtype: TableDtype): string {
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
