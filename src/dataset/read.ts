/**
 * The read side of a dataset: what the layers above (interop, embed, features, serve, cli) and
 * the ingest beside it may read. `Dataset` (and each of its views) implements it; nothing outside
 * src/dataset reaches into the dataset's internals.
 */
import type { Sample } from '../format/chunk.js';
import type { ChunkCodec, SampleCompression } from '../format/codec.js';
import type { DType, TypedArray } from '../format/dtype.js';
import type { ColumnStats } from '../format/version-column-reader.js';
import type { ColumnSpec } from './schema.js';

export type { Sample } from '../format/chunk.js';
export type { ColumnStats } from '../format/version-column-reader.js';

/** A run of consecutive stored samples of one column (null: no value), from row `start` on. */
export interface SampleRun {
  readonly start: number;
  readonly samples: ReadonlyArray<Sample | null>;
}

/** A run of decoded values of one column, from row `start` on (`scanValues`). */
export interface ValueRun {
  readonly start: number;
  /** Rows in the run. */
  readonly length: number;
  /**
   * Scalar generic columns: a typed array of the dtype where a chunk holds only scalars (float16
   * widened to Float32Array, bool as 0/1 in a Uint8Array, 64-bit integers as BigInt64Array /
   * BigUint64Array; null rows hold 0, see `nulls`). Otherwise the decoded cells, null for none.
   */
  readonly values: TypedArray | readonly unknown[];
  /** Typed values only: 1 at the rows that are null (undefined: none is). */
  readonly nulls?: Uint8Array;
}

/** A column as the version's schema stores it. */
export interface StoredColumn {
  readonly name: string;
  /** Stable id (used in object keys, so column names need no escaping). */
  readonly id: string;
  readonly htype: string;
  readonly dtype: DType;
  readonly sampleCompression: SampleCompression;
  readonly chunkCompression: ChunkCodec;
  /** Htype-specific metadata (class names, bbox format, embedding dim, lineage, ...). */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** One stored column as the open version describes it (hidden info columns included). */
export interface ColumnInfo extends StoredColumn {
  /** The user-facing spec rebuilt from the stored column (as in `ds.schema`). */
  readonly spec: ColumnSpec;
  /** Image, video or link column: cells are lazy media cells, its info column sits beside it. */
  readonly media: boolean;
}

/** The open version's counters and message (no fragment is read). */
export interface VersionSummary {
  readonly version: number;
  readonly parent: number | null;
  readonly timestampMs: number;
  readonly message: string;
  readonly writer: string;
  /** Live rows of the whole version (a view's `length` may be smaller). */
  readonly length: number;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly columns: readonly StoredColumn[];
}

/** The rows of one fragment and the ranges of them a column stores values for. */
export interface FragmentCoverage {
  /** Stable fragment id (appends add new ids; fills keep them). */
  readonly id: number;
  /** Position of the fragment's first live row in the version. */
  readonly start: number;
  /** Live rows. */
  readonly rows: number;
  /** Ranges `[offset, offset + rows)` (fragment-relative, deleted rows not counted) the column covers, in order. */
  readonly covered: ReadonlyArray<{ readonly offset: number; readonly rows: number }>;
}

/**
 * Read access to one version of a dataset, or a view of it. Rows passed to `readCells`/`readSamples`
 * and yielded by `scanSamples` are positions in the version (`indices()` maps view rows to them).
 */
export interface DatasetReader {
  readonly uri: string;
  readonly version: number;
  /** Rows in this view. */
  readonly length: number;
  /** Visible column names of this view. */
  readonly columns: string[];
  readonly schema: Record<string, ColumnSpec>;
  /** Dataset-level metadata (vector indexes and the like). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** The open version's summary (time, writer, message, length of the whole version). */
  readonly versionInfo: VersionSummary;
  /** True when this view is every row of the open version in order. */
  readonly isWholeVersion: boolean;
  /** True while writes wait for `commit`. */
  readonly hasPendingChanges: boolean;
  columnMeta(column: string): Readonly<Record<string, unknown>>;
  /** A stored column (hidden ones too); NOT_FOUND naming the columns there are. */
  columnInfo(column: string): ColumnInfo;
  /** Whether the open version stores a column of this name (hidden ones too). */
  hasColumn(column: string): boolean;
  /** Version positions of this view's rows (a copy). */
  indices(): Uint32Array;
  /** Every value of `column` in this view, in view order (media as lazy cells). */
  values(column: string, options?: { signal?: AbortSignal }): Promise<unknown[]>;
  /** Values of `column` at version positions `rows`: decoded tabular values, lazy media cells. */
  readCells(column: string, rows: ArrayLike<number>, options?: { signal?: AbortSignal }): Promise<unknown[]>;
  /** Stored samples (encoded bytes) of `column` at version positions `rows`; null where none. */
  readSamples(column: string, rows: ArrayLike<number>, options?: { signal?: AbortSignal }): Promise<(Sample | null)[]>;
  /** Stored samples of `column` at positions [start, end) of the version, a chunk at a time. */
  scanSamples(
    column: string,
    options?: { start?: number; end?: number; signal?: AbortSignal; prefetchChunks?: number },
  ): AsyncGenerator<SampleRun>;
  /**
   * Decoded values of `column` at positions [start, end) of the version, about a chunk per run
   * (typed arrays for scalar generic columns, no object per row); media columns are refused by
   * their codec as in `readCells` (read their info column).
   */
  scanValues(
    column: string,
    options?: { start?: number; end?: number; signal?: AbortSignal; prefetchChunks?: number },
  ): AsyncGenerator<ValueRun>;
  /** Stored rows, chunks and bytes of a column (reads fragment files, no chunk). */
  columnStats(column: string, options?: { signal?: AbortSignal }): Promise<ColumnStats>;
  /** Position of the first live row `column` stores no value for (the version's length when none). */
  storedLength(column: string, options?: { signal?: AbortSignal }): Promise<number>;
  /**
   * The version's fragments (those `only` keeps), in order, each with the rows `column` stores values
   * for (no column: `covered` is empty and no fragment file is read).
   */
  fragmentCoverage(
    column?: string,
    options?: { signal?: AbortSignal; only?: (fragmentId: number) => boolean },
  ): Promise<FragmentCoverage[]>;
}
