/** Loads a source's events as an Arrow table: registered loaders first, then the built-ins. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch, Table } from 'apache-arrow';
import { readTableFile } from '../../tables/read.js';
import { FILE_SOURCE_KINDS } from '../definitions/types.js';
import { StrataError, throwIfAborted } from '../../errors.js';
import { tableFromRecords } from '../engine/build.js';
import type { Source } from '../definitions/types.js';
import { readArrowFile } from './arrow.js';
import { readCsvFile } from './csv.js';
import { datasetSourceBatches, datasetSourceBytes, readDatasetSource } from './dataset.js';
import { readJsonlFile } from './jsonl.js';
import { parquetSourceBatches, readParquetFile } from './parquet.js';
import { registeredLoader, type SourceLoaderContext } from './registry.js';

export { registerSourceLoader, registeredKinds, type SourceLoader, type SourceLoaderContext } from './registry.js';
export {
  readParquetFile,
  writeParquetFile,
  readParquetSchema,
  parquetSourceBatches,
  type ParquetReaderName,
} from './parquet.js';
export { readCsvFile } from './csv.js';
export { readJsonlFile } from './jsonl.js';
export { readArrowFile } from './arrow.js';

function needPath(source: Source): string {
  if (!source.path) {
    throw new StrataError('INVALID_ARGUMENT', `source ${source.name} (${source.kind}) has no path`, {
      key: source.name,
      field: 'path',
      hint: 'set path to the file',
    });
  }
  return source.path;
}

/** The source's rows (push sources: the declared schema with no rows; pushed events are added by the repo). */
export async function loadSourceTable(source: Source, ctx: SourceLoaderContext): Promise<Table> {
  throwIfAborted(ctx.signal, `loading source ${source.name}`);
  const custom = registeredLoader(source.kind);
  if (custom) {
    const t = await custom(source, ctx);
    if (t) return t;
  }
  switch (source.kind) {
    case 'parquet':
      return readParquetFile(needPath(source), source.columns, ctx.signal);
    case 'csv':
      return readCsvFile(needPath(source), source.columns);
    case 'jsonl':
      return readJsonlFile(needPath(source), source.columns);
    case 'arrow':
      return readArrowFile(needPath(source));
    case 'dataset':
      return readDatasetSource(source, ctx);
    case 'table':
      if (!source.table)
        throw new StrataError('INVALID_ARGUMENT', `table source ${source.name} has no table`, {
          key: source.name,
          field: 'table',
        });
      return source.table;
    case 'push':
    case 'stream':
      return tableFromRecords([], { columns: Object.keys(source.columns ?? {}), dtypes: source.columns });
    default:
      throw new StrataError(
        'UNSUPPORTED',
        `no loader is registered for ${source.kind} sources (source ${source.name})`,
        {
          key: source.name,
          field: 'kind',
          hint: `call registerSourceLoader('${source.kind}', loader) before loading`,
        },
      );
  }
}

/**
 * The source's rows as a stream of record batches, read in bounded memory (file sources; table
 * sources yield their batches), with the types `loadSourceTable` gives; null for sources only read whole.
 */
export function sourceBatches(source: Source, ctx: SourceLoaderContext): AsyncIterable<RecordBatch> | null {
  if (registeredLoader(source.kind)) return null;
  const file = () => path.resolve(ctx.dir, needPath(source));
  const signal = ctx.signal;
  switch (source.kind) {
    case 'csv':
    case 'jsonl':
      return readTableFile(file(), {
        format: source.kind === 'csv' ? 'csv' : 'jsonl',
        schema: source.columns,
        inferRows: Number.POSITIVE_INFINITY,
        signal,
      });
    case 'parquet':
      return parquetSourceBatches(file(), source.columns, { signal });
    case 'arrow':
      return readTableFile(file(), { format: 'arrow', signal });
    case 'dataset':
      return datasetSourceBatches(source, ctx);
    case 'table':
      return source.table ? tableBatches(source.table) : null;
    default:
      return null;
  }
}

async function* tableBatches(table: Table): AsyncGenerator<RecordBatch> {
  for (const b of table.batches) {
    await Promise.resolve();
    yield b;
  }
}

/**
 * Loaded (Arrow) bytes per byte of a Parquet file: the bench's 30 M events are 600 MB as Arrow IPC
 * and 388 MB as DuckDB-written Parquet (1.55).
 */
export const PARQUET_LOADED_BYTES_PER_FILE_BYTE = 1.6;

/**
 * A guess at the bytes a source's rows take once loaded as columns (file size, Parquet's times
 * `PARQUET_LOADED_BYTES_PER_FILE_BYTE` for its compression; a table's buffers; a dataset's stored bytes times 3), or 0 when it is not
 * known (registered loaders).
 */
export async function sourceBytes(source: Source, ctx: SourceLoaderContext): Promise<number> {
  if (registeredLoader(source.kind)) return 0;
  if (source.kind === 'table') {
    let bytes = 0;
    for (const b of source.table?.batches ?? [])
      for (const d of b.data.children)
        for (const buf of [d.values, d.valueOffsets, d.nullBitmap])
          bytes += (buf as ArrayBufferView | undefined)?.byteLength ?? 0;
    return bytes;
  }
  if (source.kind === 'dataset') return datasetSourceBytes(source, ctx);
  if (!(FILE_SOURCE_KINDS as readonly string[]).includes(source.kind) || !source.path) return 0;
  const size = (await stat(path.resolve(ctx.dir, source.path)).catch(() => null))?.size ?? 0;
  return source.kind === 'parquet' ? size * PARQUET_LOADED_BYTES_PER_FILE_BYTE : size;
}
