/** Options of the interop entry points (types only: the implementations are loaded lazily). */
import type { CreateOptions } from '../dataset/dataset.js';
import type { ColumnSpecInput } from '../dataset/schema.js';

/** A table read for import: the new dataset's schema and its rows in batches (`Dataset.fromArrow` writes them). */
export interface TableImport {
  readonly schema: Record<string, ColumnSpecInput>;
  /** Default commit message. */
  readonly message: string;
  readonly batches: AsyncIterable<Record<string, unknown>[]>;
}

export interface ToArrowOptions {
  /** Columns to export. Default: every visible column of the view. */
  readonly columns?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface FromTableOptions extends Omit<CreateOptions, 'schema'> {
  /** Column types; default: from Strata field metadata, else inferred from the Arrow/Parquet types. */
  readonly schema?: CreateOptions['schema'];
  /** Rows per append+commit step. Default 4096. */
  readonly batchRows?: number;
  /** Commit message. Default 'import from arrow' / 'import from parquet'. */
  readonly message?: string;
}

export interface ToParquetOptions extends ToArrowOptions {
  /** Rows per Parquet row group. Default 4096. */
  readonly rowGroupRows?: number;
}

export interface ToDanfoOptions extends ToArrowOptions {
  /** Media columns as their link URL / `<image 640×480×3 jpeg>` string ('describe', default) or shape string ('shape'). */
  readonly media?: 'describe' | 'shape';
}
