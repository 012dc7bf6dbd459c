/** Options of the interop entry points (types only: the implementations are loaded lazily). */
import type { CreateOptions, Dataset } from '../dataset/dataset.js';
import type { Progress } from '../progress.js';
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

/** Options of `Dataset.sql` (src/interop/sql). */
export interface SqlOptions {
  /**
   * More tables the query may name, e.g. `{ tables: { other: ds2 } }` (datasets or views). The
   * dataset `sql` is called on is always table `ds`.
   */
  readonly tables?: Readonly<Record<string, Dataset>>;
  /**
   * Keep the DuckDB copy of each (version, view, columns) table for the next query (default true).
   * Versions are immutable, so a cached table never goes stale; a dataset with uncommitted changes
   * is never cached.
   */
  readonly cache?: boolean;
  /** Rows per chunk appended to DuckDB (bounds the JS memory of a load). Default 2048 (DuckDB's vector size). */
  readonly batchRows?: number;
  /** Rows copied to DuckDB so far, once per appended chunk (phase 'sql-load' and the table name, unit 'rows'). */
  readonly onProgress?: (p: Progress) => void;
  readonly signal?: AbortSignal;
}
