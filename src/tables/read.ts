/**
 * `readTable`: a stored table file (CSV, JSON Lines, Parquet, Arrow IPC) as a stream of Arrow record
 * batches of one schema, read through the Storage interface (local, S3, memory). Memory is bounded
 * by `batchRows` (and `inferRows` for CSV/JSONL); callers that need the whole table collect
 * explicitly (`collectTable`). The stream is pulled: nothing is read ahead of the consumer.
 */
import path from 'node:path';
import * as A from 'apache-arrow';
import { StrataError, throwIfAborted } from '../errors.js';
import { LocalStorage } from '../storage/local.js';
import type { Storage } from '../storage/storage.js';
import { arrowBatches } from './arrow-ipc.js';
import { streamTypes, typedBatches } from './batches.js';
import { textChunks } from './bytes.js';
import { CsvRecords, csvTableRows } from './csv.js';
import type { TableDtype } from './dtypes.js';
import { jsonlRows } from './jsonl.js';
import { parquetBatches } from './parquet.js';

export const TABLE_FORMATS = ['csv', 'jsonl', 'parquet', 'arrow'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

const EXTENSIONS: Readonly<Record<string, TableFormat>> = {
  csv: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  parquet: 'parquet',
  arrow: 'arrow',
  arrows: 'arrow',
  feather: 'arrow',
  ipc: 'arrow',
};

/** The format a file name's extension names, or undefined. */
export function tableFormatOf(key: string): TableFormat | undefined {
  return EXTENSIONS[key.toLowerCase().split('.').pop() ?? ''];
}

export interface ReadTableOptions {
  /** Default: from the extension (.csv, .jsonl/.ndjson, .parquet, .arrow/.arrows/.feather/.ipc). */
  readonly format?: TableFormat;
  /** Dtypes of columns by name (src/tables/dtypes.ts); other columns are typed from the file. Arrow IPC keeps its own types. */
  readonly schema?: Readonly<Record<string, TableDtype>>;
  /** Rows per batch (the last may be shorter). Default 65,536. */
  readonly batchRows?: number;
  /**
   * CSV/JSONL: rows held to type the undeclared columns before the first batch (later rows must
   * fit). Default `batchRows`; `Infinity` types over the whole file, reading it twice (types,
   * then batches) rather than holding its rows.
   */
  readonly inferRows?: number;
  /**
   * CSV/JSONL: 'values' (default) types undeclared columns (see src/tables/infer.ts); 'none' keeps
   * CSV cells as the text written ('' included) and JSON values as JSON text (`json` columns).
   */
  readonly infer?: 'values' | 'none';
  /** CSV/JSONL: bytes read per storage request. Default 1 MiB. */
  readonly chunkBytes?: number;
  readonly signal?: AbortSignal;
}

/** The file's record batches (see the module comment). NOT_FOUND, INVALID_ARGUMENT (text naming file, line, column), CORRUPT (binary). */
export async function* readTable(
  storage: Storage,
  key: string,
  options: ReadTableOptions = {},
): AsyncGenerator<A.RecordBatch> {
  const format = options.format ?? tableFormatOf(key);
  if (!format)
    throw new StrataError('UNSUPPORTED', `table ${key}: unknown format`, {
      file: key,
      hint: `name it .csv, .jsonl, .parquet or .arrow, or pass { format } (one of ${TABLE_FORMATS.join(', ')})`,
    });
  const batchRows = positive(options.batchRows ?? 65_536, 'batchRows');
  const { signal } = options;
  throwIfAborted(signal, `reading ${key}`);
  if (format === 'parquet') {
    yield* parquetBatches(storage, key, { schema: options.schema, batchRows, signal });
    return;
  }
  if (format === 'arrow') {
    yield* arrowBatches(storage, key, { signal });
    return;
  }
  const text = () =>
    textChunks(storage, key, { chunkBytes: positive(options.chunkBytes ?? 1 << 20, 'chunkBytes'), signal });
  const typing = {
    file: key,
    schema: options.schema,
    infer: options.infer ?? 'values',
    inferRows: positive(options.inferRows ?? batchRows, 'inferRows'),
    batchRows,
    signal,
  } as const;
  // typing over the whole file reads it twice (types, then batches) rather than holding its rows
  const whole = typing.inferRows === Number.POSITIVE_INFINITY;
  if (format === 'jsonl') {
    const json = { ...typing, kind: 'json' as const };
    const types = whole ? await streamTypes(jsonlRows(text(), key), json) : undefined;
    yield* typedBatches(jsonlRows(text(), key), { ...json, types });
    return;
  }
  const csvOf = (records: CsvRecords, types?: ReadonlyMap<string, TableDtype>) => ({
    ...typing,
    kind: 'csv' as const,
    types,
    // the header is known once the first row is pulled; typing reads it through the getter
    get columns() {
      return records.header;
    },
  });
  let types: Map<string, TableDtype> | undefined;
  if (whole) {
    const first = new CsvRecords(key);
    types = await streamTypes(csvTableRows(text(), first, key), csvOf(first));
  }
  const records = new CsvRecords(key);
  let any = false;
  for await (const batch of typedBatches(csvTableRows(text(), records, key), csvOf(records, types))) {
    any = true;
    yield batch;
  }
  if (!any && records.header === undefined)
    throw new StrataError('INVALID_ARGUMENT', `${key} is empty`, {
      file: key,
      hint: 'a CSV table needs a header line',
    });
}

function positive(n: number, field: string): number {
  if (!(n >= 1))
    throw new StrataError('INVALID_ARGUMENT', `readTable: ${field} must be at least 1, got ${n}`, { field });
  return n === Number.POSITIVE_INFINITY ? n : Math.floor(n);
}

/** Every batch of a stream as one table (holds the whole table: for callers that need it). */
export async function collectTable(batches: AsyncIterable<A.RecordBatch>): Promise<A.Table> {
  const all: A.RecordBatch[] = [];
  for await (const b of batches) all.push(b);
  return all.length === 0 ? new A.Table() : new A.Table(all);
}

/** A local file's batches (`readTable` over the file's folder). */
export function readTableFile(file: string, options: ReadTableOptions = {}): AsyncGenerator<A.RecordBatch> {
  return readTable(new LocalStorage(path.dirname(path.resolve(file))), path.basename(file), options);
}
