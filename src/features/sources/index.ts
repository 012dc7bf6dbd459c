/** Loads a source's events as an Arrow table: registered loaders first, then the built-ins. */
import type { Table } from 'apache-arrow';
import { StrataError, throwIfAborted } from '../../errors.js';
import { tableFromRecords } from '../engine/build.js';
import type { Source } from '../definitions/types.js';
import { readArrowFile } from './arrow.js';
import { readCsvFile } from './csv.js';
import { readDatasetSource } from './dataset.js';
import { readJsonlFile } from './jsonl.js';
import { readParquetFile } from './parquet.js';
import { registeredLoader, type SourceLoaderContext } from './registry.js';

export { registerSourceLoader, registeredKinds, type SourceLoader, type SourceLoaderContext } from './registry.js';
export { readParquetFile, writeParquetFile, readParquetSchema } from './parquet.js';
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
