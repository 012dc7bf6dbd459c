import type { RecordBatch as ArrowRecordBatch, Table as ArrowTable } from 'apache-arrow';
import type { DataFrame as DanfoDataFrame } from 'danfojs-node';
import { StrataError, isStrataError } from '../errors.js';
import { type ColumnSchema, emptyManifestV2, encodeManifestV2 } from '../format/manifest-v2.js';
import { versionKey } from '../format/manifest.js';
import type { VersionInfo } from '../format/versions.js';
import { readAnyManifest, readLatestAnyManifest, writeLatestHint } from '../format/latest.js';
import { newColumnId } from '../format/object-keys.js';
import { listAllVersions } from '../format/version-list.js';
import { type MigrateResult, migrateToV2 } from '../format/migrate.js';
import { type OptimizeResult, optimize as optimizeVersion } from '../format/optimize.js';
import type { Progress } from '../progress.js';
import {
  type BranchInfo,
  createBranch,
  deleteBranch as deleteBranchObjects,
  listBranches,
} from '../format/branches.js';
import { mergeBranch as mergeBranchInto } from '../format/merge.js';
import { refOf } from '../format/refs.js';
import { type Tag, createTag, deleteTag as deleteTagObject, listTags, readTag } from '../format/tags.js';
import { vacuum as vacuumStorage, type VacuumOptions, type VacuumResult } from '../format/vacuum.js';
import type { NewColumn } from '../format/transaction.js';
import { type OpenStorageOptions, openStorage } from '../storage/open.js';
import type { Storage } from '../storage/storage.js';
import { STRATA_VERSION } from '../version.js';
import { type CoreOptions, DatasetCore } from './core.js';
import { readStagedShard } from '../format/staged-jobs.js';
import { codecFor, normalizeSpec } from './htypes/index.js';
import { scanValues } from './scan-values.js';
import { type ColumnSummary, describeColumns } from './ops/describe.js';
import { type FormatOptions, formatTable } from './ops/format.js';
import {
  type MergeResult,
  type RowChanges,
  type RowSelector,
  deleteRows,
  mergeRows,
  updateRows,
} from './ops/mutate.js';
import {
  type Filled,
  type Joined,
  type NonNull,
  type Renamed,
  type Row,
  type RowFor,
  type RowOf,
  type WithColumn,
} from './row-types.js';
import { concat } from './verbs/concat.js';
import { drop } from './verbs/drop.js';
import { dropNulls } from './verbs/drop-nulls.js';
import { fillNulls } from './verbs/fill-nulls.js';
import { type FilterArgument, filter } from './verbs/filter.js';
import { type GroupBy, type GroupCount, Groups } from './verbs/group-by.js';
import { type JoinOptions, type JoinSource, join } from './verbs/join.js';
import { rename } from './verbs/rename.js';
import { type SampleOptions, type SampleSize, sample } from './verbs/sample.js';
import { select } from './verbs/select.js';
import { head, slice, tail, take } from './verbs/slice.js';
import { type SortKey, type SortOptions, sortBy } from './verbs/sort-by.js';
import { type SplitOptions, split } from './verbs/split.js';
import { unique, valueCounts } from './verbs/unique.js';
import {
  type Frame,
  type ViewColumn,
  type ViewPlan,
  NO_EXTRA,
  RowSource,
  cellsAt,
  columnNames,
  columnValues,
  findColumn,
  identity,
  rowsAt,
  viewColumns,
} from './verbs/view.js';
import { withColumn } from './verbs/with-column.js';
import { dropColumn, renameColumn } from './ops/columns.js';
import {
  type SavedView,
  deleteSavedView,
  listSavedViews,
  positionsOf,
  readSavedView,
  writeSavedView,
} from './ops/saved-views.js';
import { type DeriveFn, type DeriveOptions, derive, refreshDerived } from './ops/derive.js';
import { type RefreshColumnOptions, type RefreshSummary, refresherFor } from './derived/refresh.js';
import { type OnStale, markStale, staleAt, staleRows, verifyStamps } from './derived/row-lineage.js';
import { type ColumnSpec, type ColumnSpecInput, type Schema, infoColumnName, validateColumnName } from './schema.js';
import { type Batch, type BatchesOptions, batches } from './batches/index.js';
import { bindCore } from './internal.js';
import { type Transaction, openTransaction } from './transaction.js';
import type {
  ColumnInfo,
  ColumnStats,
  DatasetReader,
  FragmentCoverage,
  Sample,
  SampleRun,
  ValueRun,
  VersionSummary,
} from './read.js';
import { columnInfo, fragmentCoverage, readSamples, scanSamples } from './reading.js';
import { columnStatistics } from './ops/statistics.js';
import type { ColumnStatistics } from '../stats/statistics.js';
import type {
  FromTableOptions,
  SqlOptions,
  TableImport,
  ToArrowOptions,
  ToDanfoOptions,
  ToParquetOptions,
} from '../interop/types.js';
import { type DatasetHit, type DatasetSearchOptions, type SearchQuery, search } from './search/dataset-search.js';
import { type CreateIndexOptions, type IndexEntry, createIndex } from './search/index-store.js';

/** Options of `ds.stage`: the job and the shard of it whose changes are staged. */
export interface StageOptions {
  /** Names the job (1-128 letters, digits, `.`, `_`, `-`); every shard of it uses the same id. */
  readonly jobId: string;
  /** This shard, 0 <= index < count. */
  readonly shard: { readonly index: number; readonly count: number };
  readonly signal?: AbortSignal;
}

/** Options of `ds.commitJob`. */
export interface CommitJobOptions {
  /** Publish the shards staged so far even when some are missing. Default false (NOT_FOUND). */
  readonly allowPartial?: boolean;
  readonly signal?: AbortSignal;
}

/** What `ds.commitJob` did. */
export interface CommitJobResult {
  readonly jobId: string;
  /** The version holding the job (published now, or earlier when alreadyCommitted). */
  readonly version: number;
  /** Shard indexes published. */
  readonly shards: readonly number[];
  /** Of how many shards the job has. */
  readonly count: number;
  /** The job had been committed before: nothing was published now. */
  readonly alreadyCommitted: boolean;
}

export interface OpenOptions extends OpenStorageOptions {
  /** Version to open (time travel; of `branch` when given). Default: the latest. */
  readonly version?: number;
  /** Opens the version this tag names (on its branch); not with `version` or `branch`. */
  readonly tag?: string;
  /** Opens (the latest version of) this branch; commits go to the branch, never to main. Default main. */
  readonly branch?: string;
  /** Target chunk size for appends. Default 8 MiB. */
  readonly chunkSizeBytes?: number;
  /** Commit attempts (rebases onto concurrent commits included) before CONFLICT. Default 100. */
  readonly maxCommitAttempts?: number;
  /** Time budget of one commit, rebases and backoff included. Default 120 000. */
  readonly commitTimeoutMs?: number;
  /** Use this storage instead of opening one from the URI. */
  readonly storage?: Storage;
  /**
   * Storage options for linked files (htype `link`), e.g. `{ s3: { region, credentials } }`.
   * Default: this dataset's own `s3`/`local`/`http` options.
   */
  readonly links?: OpenStorageOptions;
  /**
   * Reads of a stale derived value (an embedding or derive column whose inputs changed, or a row
   * appended, after it was computed): 'null' (default) reads null and lists the column in
   * `staleColumns(row)`; 'error' throws CONFLICT naming the row. See `refresh(column)`.
   */
  readonly onStale?: OnStale;
  readonly signal?: AbortSignal;
}

/** Options of `Dataset.optimize`. */
export interface OptimizeDatasetOptions {
  /** Target size of rewritten chunks. Default 8 MiB. */
  readonly targetChunkBytes?: number;
  /** Rows per rewritten fragment (at most). Default 1 048 576. */
  readonly targetFragmentRows?: number;
  /**
   * A fragment with more than this fraction of its rows deleted is rewritten without them even when
   * it is large or alone. Default 0.1.
   */
  readonly maxDeletedFraction?: number;
  /** Cancels the rewrite (ABORTED); nothing is published. */
  readonly signal?: AbortSignal;
  /** Fragments rewritten so far (phase 'optimize', unit 'fragments'). */
  readonly onProgress?: (p: Progress) => void;
}

/** What `Dataset.optimize` did. */
export interface OptimizeSummary {
  /** The version now open (unchanged when there was nothing to compact). */
  readonly version: number;
  /** Small fragments merged away. */
  readonly fragmentsRemoved: number;
  /** Fragments written in their place. */
  readonly fragmentsAdded: number;
  /** Rows copied into the new fragments. */
  readonly rowsRewritten: number;
}

/** Where `Dataset.branch` starts the branch: a version of the current branch, or a tag. Default: the open version. */
export interface BranchOptions {
  /** A version number of the current branch, or a tag name. Default: the open version. */
  readonly from?: number | string;
  readonly signal?: AbortSignal;
}

export interface CreateOptions<S extends Schema = Schema> extends Omit<OpenOptions, 'version' | 'tag' | 'branch'> {
  /** The columns; declared inline, `as const` or with `defineSchema`, it types the rows. */
  readonly schema: S;
  /** What to do when a dataset already exists at the URI. Default 'error' (CONFLICT). */
  readonly ifExists?: 'error' | 'open';
}

/**
 * A versioned dataset of named columns (images, videos, labels, boxes, embeddings, ...), opened
 * like a DataFrame, and every view of it. `R` is the row type (inferred from a `create` schema or
 * given to `open<S>()`).
 *
 * Views are built synchronously and lazily: `select`, `drop`, `rename`, `withColumn`, `fillNulls`,
 * `filter`, `sortBy`, `slice`/`head`/`tail`/`take`, `sample`, `split`, `join`, `dropNulls` and
 * `concat` return a view at once and read nothing; an awaited terminal (`row`, `values`,
 * `iterRows`, `toArray`, `count`, `collect`, `batches`, `toArrow`, ...) resolves its rows on first
 * use and caches them. No data is copied and media is not decoded until asked for. (`await
 * ds.filter(...)` still works: awaiting a view returns it unchanged.)
 */
export class Dataset<out R extends Row = Row> implements DatasetReader {
  private readonly plan: ViewPlan;

  private constructor(
    private readonly core: DatasetCore,
    plan: ViewPlan | null = null,
  ) {
    this.plan = plan ?? { core, rows: RowSource.all(), columns: null };
    bindCore(this, core);
  }

  /** Creates an empty dataset with the given schema (version 0). */
  static async create<const S extends Schema>(uri: string, options: CreateOptions<S>): Promise<Dataset<RowOf<S>>> {
    const storage = options.storage ?? (await openStorage(uri, options));
    const columns: ColumnSchema[] = [];
    for (const [name, input] of Object.entries(options.schema)) {
      validateColumnName(name);
      for (const c of columnsFor(name, input)) columns.push({ ...c, id: newColumnId() });
    }
    const manifest = emptyManifestV2(`strata ${STRATA_VERSION}`, columns);
    try {
      await storage.putIfAbsent(versionKey(0), encodeManifestV2(manifest), {
        signal: options.signal,
        contentType: 'application/json',
      });
      await writeLatestHint(storage, 0, options.signal);
    } catch (err) {
      if (isStrataError(err, 'CONFLICT')) {
        if (options.ifExists === 'open') return (await Dataset.open(uri, { ...options, storage })) as Dataset<RowOf<S>>;
        throw new StrataError('CONFLICT', `a dataset already exists at ${storage.uri}`, {
          uri: storage.uri,
          hint: "open it with Dataset.open, or pass { ifExists: 'open' }",
        });
      }
      throw err;
    }
    return new Dataset(new DatasetCore(storage, manifest, coreOptions(options)));
  }

  /**
   * Opens the latest version (found through the `_latest.json` hint, verified by probing: about 3
   * requests), or `options.version`. Reads one manifest; no fragment or chunk is touched.
   */
  static async open<S extends Schema | null = null>(
    uri: string,
    options: OpenOptions = {},
  ): Promise<Dataset<RowFor<S>>> {
    if (options.tag !== undefined && (options.version !== undefined || options.branch !== undefined)) {
      throw new StrataError('INVALID_ARGUMENT', 'open: pass either tag, or version and/or branch', {
        field: 'tag',
        hint: 'a tag already names a branch and a version',
      });
    }
    const storage = options.storage ?? (await openStorage(uri, { cacheBytes: 256 * 1024 * 1024, ...options }));
    let ref = refOf(options.branch);
    let version = options.version;
    if (options.tag !== undefined) {
      const tag = await readTag(storage, options.tag, options.signal);
      ref = refOf(tag.branch);
      version = tag.version;
    }
    const manifest =
      version === undefined
        ? await readLatestAnyManifest(storage, options.signal, ref)
        : await readAnyManifest(storage, version, options.signal, ref);
    return new Dataset(new DatasetCore(storage, manifest, { ...coreOptions(options), ref }));
  }

  get uri(): string {
    return this.core.uri;
  }

  get version(): number {
    return this.core.manifest.version;
  }

  /** The branch this dataset is open on; null for main. */
  get branchName(): string | null {
    return this.core.ref.branch;
  }

  /**
   * Rows in this view. Known without reading for a dataset and for views whose rows need no data
   * to compute (`head`, `slice`, `take`, `select`, `sample`, unstratified `split`, ... of a known
   * view, or any view after `await view.collect()`); for a view with a pending `filter`, `sortBy`,
   * `join`, `dropNulls` or stratified `split`, INVALID_ARGUMENT with the hint to `await
   * view.count()` (or `await view.collect()` first).
   */
  get length(): number {
    const frame = this.plan.rows.known(this.core);
    if (!frame) {
      throw new StrataError('INVALID_ARGUMENT', `the rows of this view of ${this.uri} are not computed yet`, {
        uri: this.uri,
        hint: 'use await view.count(), or const v = await view.collect() and then v.length',
      });
    }
    return frame.rows.length;
  }

  /** Visible column names of this view. */
  get columns(): string[] {
    return columnNames(this.plan);
  }

  /** Specs of the stored columns of this view (computed and joined columns have none). */
  get schema(): Record<string, ColumnSpec> {
    const out: Record<string, ColumnSpec> = {};
    for (const c of viewColumns(this.plan)) if (c.kind === 'stored') out[c.name] = this.core.spec(c.source);
    return out;
  }

  /** Dataset-level metadata (vector indexes and the like). */
  get meta(): Readonly<Record<string, unknown>> {
    return this.core.manifest.meta;
  }

  /** Metadata of one column (class names, bbox format, embedding lineage, ...). */
  columnMeta(column: string): Readonly<Record<string, unknown>> {
    return this.core.columnManifest(column).meta;
  }

  /** Physical row numbers of this view (a copy); INVALID_ARGUMENT as `length` when not computed yet. */
  indices(): Uint32Array {
    this.assertOneVersion('indices');
    return this.rows().slice();
  }

  // ---- DatasetReader (read.ts): what the layers above read ----

  /** The open version's time, writer, message and whole-version length. */
  get versionInfo(): VersionSummary {
    return this.core.manifest;
  }

  /** True when this view is every row of the open version in order (no row was filtered, sorted or sliced away). */
  get isWholeVersion(): boolean {
    if (this.plan.rows.whole) return true;
    const rows = this.plan.rows.known(this.core)?.rows;
    if (rows === undefined || rows.length !== this.core.manifest.length) return false;
    // `identity` arrays share one buffer: a frame over it (from offset 0) is every row in order.
    return rows.byteOffset === 0 && rows.buffer === identity(rows.length).buffer;
  }

  /** True while writes wait for `commit` (or `rollback`). */
  get hasPendingChanges(): boolean {
    return this.core.hasPendingChanges;
  }

  /** A stored column (hidden info columns too); NOT_FOUND naming the columns there are. */
  columnInfo(column: string): ColumnInfo {
    return columnInfo(this.core, column);
  }

  /** Whether the open version stores a column of this name (hidden ones too). */
  hasColumn(column: string): boolean {
    return this.core.manifest.columns.some((c) => c.name === column);
  }

  /** Values of `column` at version positions `rows` (see `indices()`): decoded values, lazy media cells. */
  readCells(column: string, rows: ArrayLike<number>, options: { signal?: AbortSignal } = {}): Promise<unknown[]> {
    return this.core.readCells(column, rows, options.signal);
  }

  /** Stored samples (encoded bytes and shape) of `column` at version positions `rows`; null where none. */
  readSamples(
    column: string,
    rows: ArrayLike<number>,
    options: { signal?: AbortSignal } = {},
  ): Promise<(Sample | null)[]> {
    return readSamples(this.core, column, rows, options.signal);
  }

  /** Stored samples of `column` at version positions [start, end), a chunk at a time (`prefetchChunks` ahead). */
  scanSamples(
    column: string,
    options: { start?: number; end?: number; signal?: AbortSignal; prefetchChunks?: number } = {},
  ): AsyncGenerator<SampleRun> {
    return scanSamples(this.core, column, options);
  }

  /** Decoded values of `column` at version positions [start, end), about a chunk per run (typed arrays for scalar columns). */
  scanValues(
    column: string,
    options: { start?: number; end?: number; signal?: AbortSignal; prefetchChunks?: number } = {},
  ): AsyncGenerator<ValueRun> {
    return scanValues(this.core, column, options);
  }

  /** Stored rows, chunks and bytes of a column (reads fragment files, no chunk). */
  columnStats(column: string, options: { signal?: AbortSignal } = {}): Promise<ColumnStats> {
    return this.core.reader(column).stats(options.signal);
  }

  /** Position of the first live row `column` stores no value for (the version's length when none). */
  storedLength(column: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    return this.core.reader(column).storedLength(options.signal);
  }

  /** The version's fragments (those `only` keeps), each with the rows `column` stores values for. */
  fragmentCoverage(
    column?: string,
    options: { signal?: AbortSignal; only?: (fragmentId: number) => boolean } = {},
  ): Promise<FragmentCoverage[]> {
    return fragmentCoverage(this.core, column, options);
  }

  // ---- views (src/dataset/verbs: one file per verb; built synchronously, resolved by a terminal) ----

  head(n = 5): Dataset<R> {
    return this.with(head(this.base, n));
  }

  tail(n = 5): Dataset<R> {
    return this.with(tail(this.base, n));
  }

  /** Rows `start` to `end` (exclusive) of the view; negative values count from the end. */
  slice(start = 0, end?: number): Dataset<R> {
    return this.with(slice(this.base, start, end));
  }

  /** The rows at these positions of the view (repeats allowed). */
  take(indices: ArrayLike<number>): Dataset<R> {
    return this.with(take(this.base, indices));
  }

  select<K extends keyof R & string>(columns: readonly K[]): Dataset<Pick<R, K>> {
    return this.with(select(this.base, columns));
  }

  /** The view without these columns (nothing is written; `dropColumn` commits a drop). */
  drop<K extends keyof R & string>(columns: readonly K[]): Dataset<Omit<R, K>> {
    return this.with(drop(this.base, columns));
  }

  /** The view with columns renamed, `{ old: 'new' }` (nothing is written; `renameColumn` commits one). */
  rename<const M extends { readonly [K in keyof R & string]?: string }>(mapping: M): Dataset<Renamed<R, M>> {
    return this.with(rename(this.base, mapping as Readonly<Record<string, string>>));
  }

  /** The view with column `name` computed on read from each row (replacing one of that name). */
  withColumn<N extends string, T>(name: N, fn: (row: R) => T): Dataset<WithColumn<R, N, T>>;
  /**
   * The view with column `name` computed on read by an expression over the view's columns, in the
   * language of `filter` (`'width * height'`, `"label = 'cat'"`; null in, null out), a whole column
   * at a time. INVALID_ARGUMENT naming the column and expression when it does not parse or type-check.
   */
  withColumn<N extends string>(name: N, expression: string): Dataset<WithColumn<R, N, unknown>>;
  withColumn(name: string, fn: ((row: R) => unknown) | string): Dataset<Row> {
    return this.with(withColumn(this.base, name, fn as ((row: Row) => unknown) | string));
  }

  /**
   * Rows passing a predicate, a match object (`{ label: 'cat' }`, arrays match any of) or a SQL-like
   * expression over stored columns (`"label = 'cat' AND score > 0.5"`: comparisons, AND/OR/NOT, IN,
   * BETWEEN, IS NULL, LIKE, arithmetic; a NULL comparison drops the row). An expression is checked
   * now (INVALID_ARGUMENT naming the position or column) and reads only the chunks whose statistics
   * do not rule its conditions out.
   */
  filter(predicate: FilterArgument<R> | string, options: { signal?: AbortSignal } = {}): Dataset<R> {
    void options;
    return this.with(filter(this.base, predicate as FilterArgument | string));
  }

  /** Stable sort by one or more keys (`['label', { column: 'score', descending: true }]`); nulls last. */
  sortBy(
    keys: SortKey<keyof R & string> | readonly SortKey<keyof R & string>[],
    options: SortOptions = {},
  ): Dataset<R> {
    return this.with(sortBy(this.base, keys, options));
  }

  /** `n` (or `{ fraction }` of the) rows drawn without replacement, in view order; deterministic with a seed. */
  sample(size: SampleSize, options: SampleOptions = {}): Dataset<R> {
    return this.with(sample(this.base, size, options));
  }

  /** Disjoint random parts by name (`{ train: 0.8, val: 0.2 }`), optionally stratified; save one with `saveView`. */
  split<K extends string>(fractions: Readonly<Record<K, number>>, options: SplitOptions = {}): Record<K, Dataset<R>> {
    const parts = split(this.base, fractions, options);
    return Object.fromEntries(Object.entries(parts).map(([k, p]) => [k, this.with(p as ViewPlan)])) as Record<
      K,
      Dataset<R>
    >;
  }

  /** Rows with no null in these columns (default: in any column of the view). */
  dropNulls<K extends keyof R & string = keyof R & string>(columns?: readonly K[]): Dataset<NonNull<R, K>> {
    return this.with(dropNulls(this.base, columns));
  }

  /** The view with nulls of some columns read as the given values (`{ score: 0 }`). */
  fillNulls<const F extends { readonly [K in keyof R]?: unknown }>(values: F): Dataset<Filled<R, F>> {
    return this.with(fillNulls(this.base, values as Readonly<Record<string, unknown>>));
  }

  /**
   * The view joined with a table of metadata on a key (`{ on: 'id' }` or `{ on: ['id', 'image_id'] }`),
   * `how: 'left'` (default) or `'inner'`; the other columns of the table are added to the rows.
   */
  join<T extends Row>(other: Dataset<T> | ReadonlyArray<T> | ArrowTable, options: JoinOptions): Dataset<R & Joined<T>> {
    return this.with(join(this.base, other instanceof Dataset ? other.joinSide() : (other as JoinSource), options));
  }

  /** This view's rows followed by the others' (views of this dataset with the same columns). */
  concat(...others: Dataset<R>[]): Dataset<R> {
    return this.with(concat([this.base, ...others.map((o) => o.base)]));
  }

  /** Groups by one or more columns: `.agg({ n: count(), w: mean('width') })`, `.count()`, `.views()`. */
  groupBy<K extends keyof R & string>(columns: K | readonly K[]): GroupBy<Dataset<R>, { [P in K]: R[P] }> {
    return new Groups(this.base, typeof columns === 'string' ? [columns] : [...columns], (p) => this.with(p));
  }

  /** The distinct values of a column, in order of first appearance (null included). */
  unique<K extends keyof R & string>(column: K, options: { signal?: AbortSignal } = {}): Promise<R[K][]> {
    return unique(this.plan, column, options.signal) as Promise<R[K][]>;
  }

  /** Rows per value of a column (null included), most frequent first. */
  valueCounts(column: keyof R & string, options: { signal?: AbortSignal } = {}): Promise<GroupCount[]> {
    return valueCounts(this.plan, column, options.signal);
  }

  /**
   * Mergeable statistics of a column over this view's rows (numbers: moments, quantiles, distinct
   * count; text, labels, booleans: frequent values; embeddings: norms, mean vector, sketches), to
   * summarise or to compare with another version's or view's: `cur.driftFrom(ref)`.
   */
  statistics(column: keyof R & string, options: { signal?: AbortSignal } = {}): Promise<ColumnStatistics> {
    return columnStatistics(this.plan, this.schema[column], column, options.signal);
  }

  describe(options: { signal?: AbortSignal } = {}): Promise<ColumnSummary[]> {
    return this.resolved('describe', options.signal).then((v) =>
      describeColumns(v.core, v.rows(), v.columns, options.signal),
    );
  }

  // ---- reading (terminals: each resolves the view's rows first) ----

  /** Rows in this view (resolving it). */
  async count(options: { signal?: AbortSignal } = {}): Promise<number> {
    return (await this.frame(options.signal)).rows.length;
  }

  /** This view with its rows computed (then `length` and `indices()` are known); cached. */
  async collect(options: { signal?: AbortSignal } = {}): Promise<Dataset<R>> {
    return this.with({ ...this.base, rows: RowSource.of(await this.frame(options.signal)) });
  }

  /** Row i of this view: tabular values decoded, media as lazy cells. */
  async row(i: number, options: { signal?: AbortSignal } = {}): Promise<R> {
    const frame = await this.frame(options.signal);
    const j = this.checkRow(i, frame);
    const row = (await rowsAt(this.core, frame, viewColumns(this.plan), [j], options.signal))[0];
    markStale(row, (await staleAt(this.core, this.storedColumns(), [frame.rows[j]], options.signal))[0]);
    return row as R;
  }

  /** All values of one column in this view. */
  values<K extends keyof R & string>(column: K, options?: { signal?: AbortSignal }): Promise<R[K][]>;
  /** Columns added after the row type was fixed (addColumn, embedding jobs) are read untyped. */
  values(column: string, options?: { signal?: AbortSignal }): Promise<unknown[]>;
  async values(column: string, options: { signal?: AbortSignal } = {}): Promise<unknown[]> {
    const col = findColumn(this.plan, column, 'values');
    return columnValues(this.core, await this.frame(options.signal), col, options.signal);
  }

  /** Rows in batches of `batchSize` (default 1024): bounded memory, cells are lazy. */
  async *iterRows(options: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<R[]> {
    const size = options.batchSize ?? 1024;
    const frame = await this.frame(options.signal);
    const cols = viewColumns(this.plan);
    const stored = this.storedColumns();
    for (let s = 0; s < frame.rows.length; s += size) {
      const positions = identity(Math.min(frame.rows.length, s + size)).subarray(s);
      const batch = await rowsAt(this.core, frame, cols, positions, options.signal);
      const stale = await staleAt(this.core, stored, frame.rows.subarray(s, s + positions.length), options.signal);
      batch.forEach((row, j) => markStale(row, stale[j]));
      yield batch as R[];
    }
  }

  /** Collects every row of the view (explicit: can be large). */
  async toArray(options: { signal?: AbortSignal } = {}): Promise<R[]> {
    const out: R[] = [];
    for await (const batch of this.iterRows({ batchSize: 4096, signal: options.signal })) out.push(...batch);
    return out;
  }

  /** Model-ready batches: decoded image tensors plus the tabular columns (src/dataset/batches); stored columns only. */
  async *batches(options: BatchesOptions = {}): AsyncGenerator<Batch> {
    const v = await this.resolved('batches', options.signal);
    yield* batches(v.core, v.rows(), v.columns, options);
  }

  /** This view as an apache-arrow Table (src/interop/arrow.ts; loaded on first use); computed columns included. */
  async toArrow(options: ToArrowOptions = {}): Promise<ArrowTable> {
    const plan = { ...this.base, rows: RowSource.of(await this.frame(options.signal)) };
    const exportStored = async (p: ViewPlan, o: ToArrowOptions) =>
      (await import('../interop/arrow.js')).toArrow(this.with(p), o);
    return (await import('./verbs/to-arrow.js')).viewToArrow(plan, options, exportStored);
  }

  /**
   * Runs one SELECT over this view as table `ds` (and `options.tables`) in DuckDB, loaded on first
   * use; the answer as an Arrow Table. Media columns are references (`image.width`, `image.format`),
   * with `embed(model, image)`, `decode_image(image)`, `cosine(a, b)`, `l2(a, b)` (docs/SQL.md).
   */
  async sql(query: string, options: SqlOptions = {}): Promise<ArrowTable> {
    return (await import('../interop/sql/index.js')).sql(await this.resolved('sql', options.signal), query, options);
  }

  /**
   * `sql` with the answer streamed as Arrow record batches (DuckDB's chunks, up to 2048 rows each),
   * read from DuckDB as they are consumed (docs/SQL.md).
   */
  async *sqlBatches(query: string, options: SqlOptions = {}): AsyncGenerator<ArrowRecordBatch> {
    const { sqlBatches } = await import('../interop/sql/index.js');
    yield* sqlBatches(await this.resolved('sql', options.signal), query, options);
  }

  /** Writes this view to a Parquet file that DuckDB/pyarrow read (src/interop/parquet.ts); stored columns only. */
  async toParquet(path: string, options: ToParquetOptions = {}): Promise<void> {
    return (await import('../interop/parquet.js')).toParquet(
      await this.resolved('toParquet', options.signal),
      path,
      options,
    );
  }

  /** The tabular columns as a danfojs-node DataFrame; danfo is imported only here; stored columns only. */
  async toDanfo(options: ToDanfoOptions = {}): Promise<DanfoDataFrame> {
    return (await import('../interop/danfo.js')).toDanfo(await this.resolved('toDanfo'), options);
  }

  /** A new dataset at `uri` from an Arrow table (htypes from Strata field metadata, else inferred). */
  static async fromArrow(table: ArrowTable, uri: string, options: FromTableOptions = {}): Promise<Dataset> {
    return Dataset.fromTable((await import('../interop/arrow.js')).readArrowTable(table, options), uri, options);
  }

  /** A new dataset at `uri` from a Parquet file. */
  static async fromParquet(path: string, uri: string, options: FromTableOptions = {}): Promise<Dataset> {
    return Dataset.fromTable(
      await (await import('../interop/parquet.js')).readParquetFile(path, options),
      uri,
      options,
    );
  }

  /** Creates the dataset of an imported table and commits its rows as one version; on failure it is closed. */
  private static async fromTable(table: TableImport, uri: string, options: FromTableOptions): Promise<Dataset> {
    const { schema: _given, batchRows: _rows, message = table.message, ...createOptions } = options;
    const ds = await Dataset.create(uri, { ...createOptions, schema: table.schema });
    try {
      for await (const rows of table.batches) await ds.append(rows);
      await ds.commit(message);
      return ds;
    } catch (err) {
      await ds.close();
      throw err;
    }
  }

  /** A DataFrame-like table of the first and last rows; media shown as `<image 640×480×3 jpeg>`. */
  async format(options: FormatOptions = {}): Promise<string> {
    const frame = await this.frame(options.signal);
    const read = (c: string, at: readonly number[], signal?: AbortSignal) =>
      cellsAt(this.core, frame, findColumn(this.plan, c), at, signal);
    return formatTable(frame.rows.length, this.columns, read, options);
  }

  async print(options: FormatOptions = {}): Promise<void> {
    const text = await this.format(options);
    console.log(`${this.toString()}\n${text}`);
  }

  /** One-line summary (synchronous: no data read; `?` rows for a view not resolved yet). Use `format()`/`print()` for the rows. */
  toString(): string {
    const kind = (c: ViewColumn) =>
      c.kind === 'stored' ? this.core.columnManifest(c.source).htype : c.kind === 'extra' ? 'joined' : 'computed';
    const cols = viewColumns(this.plan)
      .map((c) => `${c.name}: ${kind(c)}`)
      .join(', ');
    const frame = this.plan.rows.known(this.core);
    return `Dataset(${this.uri} @ v${this.version}, ${frame ? frame.rows.length : '?'} rows, ${cols})`;
  }

  // ---- writing ----

  /** Appends rows (objects keyed by column); validated now, visible after `commit`. */
  async append(
    rows: Readonly<Record<string, unknown>> | ReadonlyArray<Readonly<Record<string, unknown>>>,
  ): Promise<void> {
    this.assertWholeDataset('append');
    const list = Array.isArray(rows) ? rows : [rows as Record<string, unknown>];
    await this.core.appendRows(list);
  }

  /** Appends columns of equal length: `{ label: ['cat', 'dog'], image: [a, b] }`. */
  async extend(columns: Readonly<Record<string, readonly unknown[]>>): Promise<void> {
    if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) {
      throw new StrataError('INVALID_ARGUMENT', 'extend: expected an object of column arrays', {
        hint: "write extend({ label: ['cat', 'dog'], score: [0.1, 0.2] })",
      });
    }
    for (const [name, values] of Object.entries(columns)) {
      if (!Array.isArray(values) && !(ArrayBuffer.isView(values) && !(values instanceof DataView))) {
        throw new StrataError('INVALID_ARGUMENT', `extend: column ${name} is not an array of values`, {
          column: name,
          hint: `got ${typeof values === 'string' ? 'a string' : typeof values}; pass one value per row, e.g. { ${name}: [a, b] }`,
        });
      }
    }
    const lengths = new Set(Object.values(columns).map((v) => v.length));
    if (lengths.size > 1) {
      throw new StrataError('INVALID_ARGUMENT', `extend: columns have different lengths (${[...lengths].join(', ')})`, {
        hint: 'pass arrays of equal length',
      });
    }
    const n = lengths.size ? [...lengths][0] : 0;
    const names = Object.keys(columns);
    const rows = Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((c) => [c, columns[c][i]])));
    await this.append(rows);
  }

  /** Adds a column (existing rows read as null until filled). Visible after `commit`. */
  addColumn(name: string, spec: ColumnSpecInput): void {
    this.assertWholeDataset('addColumn');
    validateColumnName(name);
    const txn = this.core.transaction();
    for (const c of columnsFor(name, spec)) txn.addColumn(c);
  }

  /** Appends values to one column only, after its last stored value (e.g. a resumable embedding job). */
  async appendToColumn(column: string, values: readonly unknown[]): Promise<void> {
    this.assertWholeDataset('appendToColumn');
    const txn = this.core.transaction();
    const col = txn.schema.find((c) => c.name === column);
    if (!col) this.core.columnManifest(column);
    const codec = codecFor(col!.htype, column);
    if (codec.media)
      throw new StrataError('UNSUPPORTED', `appendToColumn does not take media column ${column}`, { column });
    const first = this.core.manifest.columns.some((c) => c.name === column)
      ? await this.core.reader(column).storedLength()
      : 0;
    // Every value is validated before the first is appended: a bad one leaves the column as it was.
    let meta: Record<string, unknown> | undefined;
    const samples = [];
    for (const v of values) {
      const enc = await codec.encode(v, {
        column,
        row: first + samples.length,
        dtype: col!.dtype,
        meta: meta ?? col!.meta,
        updateMeta: (m) => (meta = m),
        links: this.core.links,
      });
      samples.push(enc.sample);
    }
    if (meta) txn.setColumnMeta(column, meta);
    for (const s of samples) await txn.appendToColumn(column, s);
  }

  /**
   * Stores values of one column for existing rows `row`, `row + 1`, … that have none yet (a sharded
   * derived-column job filling its own fragments). Filling rows that already have values is a
   * CONFLICT at commit.
   */
  async fillRows(column: string, row: number, values: readonly unknown[]): Promise<void> {
    this.assertWholeDataset('fillRows');
    const txn = this.core.transaction();
    const col = txn.schema.find((c) => c.name === column) ?? this.core.columnManifest(column);
    const codec = codecFor(col.htype, column);
    if (codec.media) throw new StrataError('UNSUPPORTED', `fillRows does not take media column ${column}`, { column });
    let meta: Record<string, unknown> | undefined;
    const samples = [];
    for (const v of values) {
      const enc = await codec.encode(v, {
        column,
        row: row + samples.length,
        dtype: col.dtype,
        meta: meta ?? col.meta,
        updateMeta: (m) => (meta = m),
        links: this.core.links,
      });
      samples.push(enc.sample);
    }
    if (meta) txn.setColumnMeta(column, meta);
    await txn.fillRows(column, row, samples);
  }

  /** Sets metadata of a column (merged), e.g. lineage. Visible after `commit`. */
  setColumnMeta(column: string, meta: Record<string, unknown>): void {
    const txn = this.core.transaction();
    const col = txn.schema.find((c) => c.name === column) ?? this.core.columnManifest(column);
    txn.setColumnMeta(column, { ...col.meta, ...meta });
  }

  /**
   * Drops a column as one commit and returns the new version (metadata only: earlier versions
   * still read it; `vacuum` keeps its data while a live fragment lists it). Columns derived from it
   * and its vector index are not dropped. NOT_FOUND for an unknown column; needs no uncommitted changes.
   */
  async dropColumn(name: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    this.assertWholeDataset('dropColumn');
    return dropColumn(this.core, name, options.signal);
  }

  /**
   * Renames a column as one commit and returns the new version; its data, metadata and id stay.
   * NOT_FOUND for an unknown column, INVALID_ARGUMENT for a reserved name, CONFLICT for a taken
   * one; needs no uncommitted changes.
   */
  async renameColumn(from: string, to: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    this.assertWholeDataset('renameColumn');
    return renameColumn(this.core, from, to, options.signal);
  }

  /** Sets dataset-level metadata (merged). Visible after `commit`. */
  setMeta(meta: Record<string, unknown>): void {
    const txn = this.core.transaction();
    txn.setMeta({ ...this.core.manifest.meta, ...meta });
  }

  /**
   * Deletes the rows `selector` picks (a `filter` predicate or match object, or `{ rowIds }`) as
   * one commit, writing deletion files only (no data rewritten); returns how many. Older versions
   * still have the rows. Needs no uncommitted changes.
   */
  async delete(selector: RowSelector, options: { signal?: AbortSignal } = {}): Promise<number> {
    this.assertWholeDataset('delete');
    return deleteRows(this.core, selector, options.signal);
  }

  /**
   * Changes the rows `selector` picks as one commit: `changes` (values for some columns, or a
   * function of the decoded row returning them) are validated like `append`, then each row's new
   * copy is appended — it keeps its row id and moves to the end of the dataset — and the old row is
   * deleted. Returns how many rows changed. Derived columns (embeddings, `derive` columns) of a
   * changed input lose their value — reads say stale — until `refresh(column)` fills it again.
   */
  async update(selector: RowSelector, changes: RowChanges, options: { signal?: AbortSignal } = {}): Promise<number> {
    this.assertWholeDataset('update');
    return updateRows(this.core, selector, changes, options.signal);
  }

  /**
   * Upsert (Lance's merge_insert): each of `rows` whose `on` value matches existing rows updates
   * them as `update` does (missing columns keep their values); the others are appended. One commit.
   * A concurrent commit that updated or deleted a matched row makes it fail with CONFLICT naming the
   * row id; two concurrent merges that both insert a new key both insert it (no unique index).
   */
  async merge(
    rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
    options: { on: string; signal?: AbortSignal },
  ): Promise<MergeResult> {
    this.assertWholeDataset('merge');
    return mergeRows(this.core, rows, options?.on, options?.signal);
  }

  /**
   * Stable row ids of this view's rows, in view order (Lance's `_rowid`). A row keeps its id across
   * appends, deletes of other rows, its own updates and compaction; `row(i)` still takes positions.
   * Ids are integers below 2^53, returned as a Float64Array (one 8-byte entry per row).
   */
  async rowIds(options: { signal?: AbortSignal } = {}): Promise<Float64Array> {
    this.assertOneVersion('rowIds');
    const v = this.core.version;
    const all = new Float64Array(v.length);
    for await (const slot of v.slots(0, v.length, options.signal))
      all.set(await v.rowIdsOf(slot, options.signal), slot.start);
    if (this.plan.rows.whole) return all;
    return Float64Array.from((await this.frame(options.signal)).rows, (p) => all[p]);
  }

  /** Position in this view of the row with id `rowId`, or undefined when the view has no such live row. */
  async rowPosition(rowId: number, options: { signal?: AbortSignal } = {}): Promise<number | undefined> {
    this.assertOneVersion('rowPosition');
    const pos = await this.core.version.positionOf(rowId, options.signal);
    if (pos === undefined || this.plan.rows.whole) return pos;
    const j = (await this.frame(options.signal)).rows.indexOf(pos);
    return j < 0 ? undefined : j;
  }

  /**
   * Saves a view of this dataset (default: all of it) as `name` (`views/<name>.json`, like a tag:
   * not a version). It keeps the view's rows by stable row id, in order, and its columns, so a
   * `split` part reloads as the same rows after appends, updates and compaction (deleted rows drop
   * out). CONFLICT when the name is taken; UNSUPPORTED for renamed, computed or joined columns.
   */
  async saveView(name: string, view: Dataset<R> = this, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (view.core.storage !== this.core.storage) {
      throw new StrataError('INVALID_ARGUMENT', `saveView: the view is not of ${this.uri}`, {
        uri: this.uri,
        hint: 'save views of this dataset only',
      });
    }
    const v = await view.resolved('saveView', options.signal);
    const rowIds = Array.from(await v.rowIds(options));
    const saved = { name, version: v.version, branch: v.branchName, timestampMs: Date.now(), rowIds };
    await writeSavedView(this.core, { ...saved, columns: v.plan.columns ? v.columns : null }, options.signal);
  }

  /** Saved view `name` on this dataset's open version (NOT_FOUND when there is none). */
  async loadView(name: string, options: { signal?: AbortSignal } = {}): Promise<Dataset<R>> {
    const saved = await readSavedView(this.core, name, options.signal);
    const rows = Uint32Array.from(await positionsOf(this.core, saved.rowIds, options.signal));
    const plan: ViewPlan = { core: this.core.snapshot(), rows: RowSource.of({ rows, extra: NO_EXTRA }), columns: null };
    return this.with(saved.columns ? select(plan, saved.columns) : plan);
  }

  /** Every saved view (name, version, branch, columns, time), by name. */
  savedViews(options: { signal?: AbortSignal } = {}): Promise<Omit<SavedView, 'rowIds'>[]> {
    return listSavedViews(this.core, options.signal);
  }

  /** Deletes saved view `name` (NOT_FOUND when absent). */
  deleteView(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return deleteSavedView(this.core, name, options.signal);
  }

  /**
   * Starts a transaction: append, extend, addColumn, appendToColumn, fillRows, setColumnMeta,
   * setMeta, update, delete and merge on it are published together by `tx.commit(message)` as one
   * version; `await using tx = ds.transaction()` rolls back what was not committed. The dataset's
   * own write methods are refused while it is open. INVALID_ARGUMENT on a view, with uncommitted
   * changes, or while another transaction is open.
   */
  transaction(): Transaction {
    this.assertWholeDataset('transaction');
    return openTransaction(this, this.core);
  }

  /** Publishes pending changes atomically as the next version; returns it. */
  async commit(message = ''): Promise<number> {
    return this.core.commit(message);
  }

  /**
   * Two-phase job commit, phase one: writes the pending changes' objects and records them as
   * `shard` of job `jobId` (under `_jobs/<jobId>/` in the dataset) without publishing a version;
   * readers do not see them until `commitJob(jobId)`. Returns 'exists' (and records nothing) when
   * this shard of the job was staged before. See docs/SCALING.md.
   */
  async stage(message: string, options: StageOptions): Promise<'staged' | 'exists'> {
    this.assertWholeDataset('stage');
    return this.core.stage(message, options.jobId, options.shard, options.signal);
  }

  /**
   * Two-phase job commit, phase two: publishes every staged shard of `jobId` as one version and
   * opens it. NOT_FOUND naming the missing shards unless all are staged (or `allowPartial`);
   * idempotent (a committed job returns its version, `alreadyCommitted: true`).
   */
  async commitJob(jobId: string, options: CommitJobOptions = {}): Promise<CommitJobResult> {
    this.assertWholeDataset('commitJob');
    const { manifest: _published, ...result } = await this.core.commitJob(jobId, options);
    return result;
  }

  /** Whether `shard` of job `jobId` is staged (see `stage`). */
  async isStaged(
    jobId: string,
    shard: { readonly index: number; readonly count: number },
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return (await readStagedShard(this.core.storage, jobId, shard.index, shard.count, options.signal)) !== undefined;
  }

  /** Drops pending changes. */
  rollback(): Promise<void> {
    return this.core.rollback();
  }

  /** Every version (of this branch) with its time and message. */
  versions(options: { signal?: AbortSignal } = {}): Promise<VersionInfo[]> {
    return listAllVersions(this.core.storage, options.signal, this.core.ref);
  }

  /** Re-reads the latest version of this branch (after another writer committed). */
  async refresh(options?: { signal?: AbortSignal }): Promise<this>;
  /**
   * Recomputes the stale rows of derived column `column` (see derived/refresh.ts, ops/derive.ts):
   * rows whose inputs changed, appended rows, values written by hand; one commit. Embedding
   * columns run the embedding job on just those rows (options of `refreshEmbedding`).
   */
  async refresh(column: string, options?: RefreshColumnOptions): Promise<RefreshSummary>;
  async refresh(
    arg: string | { signal?: AbortSignal } = {},
    options: RefreshColumnOptions = {},
  ): Promise<this | RefreshSummary> {
    if (typeof arg === 'string') {
      this.assertWholeDataset('refresh');
      if ((this.columnMeta(arg).lineage as { kind?: string } | undefined)?.kind === 'strata.derived')
        return refreshDerived(this.core, arg, options);
      return refresherFor<Dataset>(this.core, arg)(this, arg, options);
    }
    this.core.setManifest(await readLatestAnyManifest(this.core.storage, arg?.signal, this.core.ref));
    return this;
  }

  /**
   * Computes column `name` from the `inputs` columns with `fn` and writes it with lineage (inputs,
   * a fingerprint of `fn`) and per-row lineage, as one commit (ops/derive.ts). After updates or
   * appends, `refresh(name)` recomputes exactly the stale rows; reads of a stale value say so.
   */
  derive(name: string, fn: DeriveFn, options: DeriveOptions): Promise<RefreshSummary> {
    this.assertWholeDataset('derive');
    return derive(this.core, name, fn, options);
  }

  /**
   * Positions of the rows whose value of derived `column` is stale (empty for other columns).
   * With `verify`, also rows whose stamp does not match the inputs' current bytes (a writer that
   * bypassed per-row lineage; reads every input sample): see derived/row-lineage.ts.
   */
  async staleRows(column: string, options: { verify?: boolean; signal?: AbortSignal } = {}): Promise<number[]> {
    this.core.columnManifest(column);
    const stale = new Set(await staleRows(this.core, column, options.signal));
    if (options.verify) for (const p of await verifyStamps(this.core, column, options.signal)) stale.add(p);
    const out: number[] = [];
    this.rows().forEach((p, i) => stale.has(p) && out.push(i));
    return out;
  }

  /** Another version of this branch (time travel), sharing storage and cache. */
  async checkout(version: number, options: { signal?: AbortSignal } = {}): Promise<Dataset> {
    const m = await readAnyManifest(this.core.storage, version, options.signal, this.core.ref);
    return Dataset.sharing(new DatasetCore(this.core.storage, m, this.core.options));
  }

  // ---- tags and branches (src/format/tags.ts, branches.ts, merge.ts) ----

  /** Names `version` (default: the open one) of this branch; CONFLICT when the tag exists. Writes no version. */
  tag(name: string, version: number = this.version, options: { signal?: AbortSignal } = {}): Promise<Tag> {
    return createTag(this.core.storage, name, version, this.core.ref, options.signal);
  }

  /** Every tag, by name. */
  tags(options: { signal?: AbortSignal } = {}): Promise<Tag[]> {
    return listTags(this.core.storage, options.signal);
  }

  /** Deletes a tag (NOT_FOUND when absent); vacuum may then collect what only it kept. */
  deleteTag(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return deleteTagObject(this.core.storage, name, options.signal);
  }

  /**
   * Creates branch `name` from `options.from` (a version of this branch or a tag; default the open
   * version) and returns it opened. Its commits never move the branch it came from.
   */
  async branch(name: string, options: BranchOptions = {}): Promise<Dataset> {
    const { storage } = this.core;
    let from = this.core.ref;
    let source = this.core.version.manifest;
    if (typeof options.from === 'string') {
      const tag = await readTag(storage, options.from, options.signal);
      from = refOf(tag.branch);
      source = await readAnyManifest(storage, tag.version, options.signal, from);
    } else if (options.from !== undefined) source = await readAnyManifest(storage, options.from, options.signal, from);
    const m = await createBranch(storage, name, from, source, `strata ${STRATA_VERSION}`, options.signal);
    return Dataset.sharing(new DatasetCore(storage, m, { ...this.core.options, ref: refOf(name) }));
  }

  /** Every branch (main not included) with its origin and newest version. */
  branches(options: { signal?: AbortSignal } = {}): Promise<BranchInfo[]> {
    return listBranches(this.core.storage, options.signal);
  }

  /** Deletes a branch (CONFLICT while a tag names it); vacuum may then collect what only it kept. */
  deleteBranch(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return deleteBranchObjects(this.core.storage, name, options.signal);
  }

  /**
   * Merges branch `name` into this branch (the one it forked from): fast-forward when this branch
   * has not moved since the fork, else its recorded operations are replayed onto the latest version
   * (CONFLICT naming what collided when they do not commute). Opens and returns the new version.
   */
  async mergeBranch(name: string, options: { message?: string; signal?: AbortSignal } = {}): Promise<number> {
    this.assertWholeDataset('mergeBranch');
    if (this.core.hasPendingChanges) {
      throw new StrataError('INVALID_ARGUMENT', `mergeBranch: ${this.uri} has uncommitted changes`, {
        hint: 'commit or roll them back first',
      });
    }
    const { manifest } = await mergeBranchInto(this.core.storage, name, this.core.ref, {
      writer: `strata ${STRATA_VERSION}`,
      message: options.message,
      signal: options.signal,
      maxCommitAttempts: this.core.options.maxCommitAttempts,
      commitTimeoutMs: this.core.options.commitTimeoutMs,
    });
    this.core.setManifest(manifest);
    return manifest.version;
  }

  /**
   * Top-k rows by similarity of an embedding column to a vector, image, text or row (see
   * src/dataset/search/dataset-search.ts; images and texts are embedded by the query embedder).
   */
  async search(column: string, query: SearchQuery, options: DatasetSearchOptions = {}): Promise<DatasetHit[]> {
    return search(await this.resolved('search', options.signal), column, query, options);
  }

  /** Builds and persists an ANN (HNSW) index of an embedding column (see src/dataset/search/index-store.ts). */
  createIndex(column: string, options: CreateIndexOptions = {}): Promise<IndexEntry> {
    return createIndex(this, column, options);
  }

  /**
   * Compacts the latest version: small adjacent fragments (and so their small chunks) are rewritten
   * into fragments of up to `targetFragmentRows` rows with chunks near `targetChunkBytes`, as one
   * commit that keeps rows appended meanwhile and every row's id. Deleted rows are not copied (a
   * fragment with more than `maxDeletedFraction` deleted is rewritten even alone). Versions before
   * it still read their objects until `vacuum`. Opens the version it published.
   */
  async optimize(options: OptimizeDatasetOptions = {}): Promise<OptimizeSummary> {
    if (this.core.hasPendingChanges) {
      throw new StrataError('INVALID_ARGUMENT', `dataset ${this.uri} has uncommitted changes`, {
        uri: this.uri,
        hint: 'commit or roll back before optimize',
      });
    }
    await this.refresh(options);
    const r: OptimizeResult = await optimizeVersion(this.core.storage, this.core.version, {
      ...options,
      writer: `strata ${STRATA_VERSION}`,
      maxCommitAttempts: this.core.options.maxCommitAttempts,
      commitTimeoutMs: this.core.options.commitTimeoutMs,
      ref: this.core.ref,
    });
    this.core.setManifest(r.manifest);
    const { manifest, ...counts } = r;
    return { version: manifest.version, ...counts };
  }

  /**
   * Upgrades a format v1 dataset to v2 in place (one commit; the v1 chunks are referenced, not
   * copied). A no-op (`migrated: false`) when the latest version is already v2.
   */
  static async migrate(
    uri: string,
    options: OpenStorageOptions & { readonly storage?: Storage; readonly signal?: AbortSignal } = {},
  ): Promise<{ version: number; migrated: boolean }> {
    const storage = options.storage ?? (await openStorage(uri, options));
    try {
      const r: MigrateResult = await migrateToV2(storage, {
        writer: `strata ${STRATA_VERSION}`,
        signal: options.signal,
      });
      return { version: r.manifest.version, migrated: r.migrated };
    } finally {
      if (!options.storage) await storage.close();
    }
  }

  vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    return vacuumStorage(this.core.storage, options);
  }

  /** Idempotent. Pending (uncommitted) changes are dropped. */
  async close(): Promise<void> {
    if (this.core.closed) return;
    await this.core.rollback();
    this.core.closed = true;
    if (this.core.ownsStorage) await this.core.storage.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals ----

  /** A dataset on another version or branch of this one's storage: closing it leaves the storage open. */
  private static sharing(core: DatasetCore): Dataset {
    core.ownsStorage = false;
    return new Dataset(core);
  }

  /** @internal physical rows of this view; INVALID_ARGUMENT as `length` while they are not computed. */
  rows(): Uint32Array {
    const frame = this.plan.rows.known(this.core);
    if (!frame) void this.length;
    return frame!.rows;
  }

  /** A view of `plan`, reading its core (a snapshot: the version the view was built on). */
  private with<T extends Row>(plan: ViewPlan): Dataset<T> {
    return new Dataset<T>(plan.core, plan);
  }

  /** This view's plan for building another view on: on a dataset, pinned to the open version. */
  private get base(): ViewPlan {
    return this.core.pinned ? this.plan : { ...this.plan, core: this.core.snapshot() };
  }

  /** The view's columns that are stored columns under their own names (the ones with per-row lineage). */
  private storedColumns(): string[] {
    return viewColumns(this.plan)
      .filter((c) => c.kind === 'stored' && c.name === c.source)
      .map((c) => c.name);
  }

  private frame(signal?: AbortSignal): Promise<Frame> {
    return this.plan.rows.resolve(this.core, signal);
  }

  /** This view resolved, for terminals that read stored columns by name (UNSUPPORTED for renamed, computed or joined ones). */
  private async resolved(op: string, signal?: AbortSignal): Promise<Dataset<R>> {
    const other = viewColumns(this.plan).filter((c) => c.kind !== 'stored' || c.name !== c.source);
    if (other.length) {
      throw new StrataError(
        'UNSUPPORTED',
        `${op} reads stored columns; ${other.map((c) => c.name).join(', ')} are renamed, computed or joined`,
        {
          column: other[0].name,
          hint: 'select the stored columns first, or use toArrow()/toArray(), which include them',
        },
      );
    }
    return this.collect({ signal });
  }

  /** This view as the right side of a join. */
  private joinSide(): JoinSource {
    const v = this.core.pinned ? this : this.with<R>(this.base);
    return { columns: v.columns, load: (signal) => v.toArray({ signal }) };
  }

  private checkRow(i: number, frame: Frame): number {
    const n = frame.rows.length;
    const j = i < 0 ? n + i : i;
    if (!Number.isInteger(j) || j < 0 || j >= n) {
      throw new StrataError('INVALID_ARGUMENT', `row ${i} is out of range for ${n} rows of ${this.uri}`, {
        row: i,
        uri: this.uri,
      });
    }
    return j;
  }

  /** UNSUPPORTED for a concatenation of views of different datasets or versions (its rows have no single version). */
  private assertOneVersion(op: string): void {
    if (viewColumns(this.plan).some((c) => c.kind === 'union')) {
      throw new StrataError('UNSUPPORTED', `${op}: this view concatenates views of different datasets or versions`, {
        uri: this.uri,
        hint: `call ${op} on each view before concat`,
      });
    }
  }

  private assertWholeDataset(op: string): void {
    if (!this.plan.rows.whole || this.plan.columns !== null) {
      throw new StrataError('INVALID_ARGUMENT', `${op} is not allowed on a view of ${this.uri}`, {
        hint: 'call it on the dataset itself',
      });
    }
  }
}

/** The stored columns for one declared column: the column itself plus, for media, its info column. */
export function columnsFor(name: string, input: ColumnSpecInput): NewColumn[] {
  const spec = normalizeSpec(name, input);
  const codec = codecFor(spec.htype, name);
  const main = { name, ...codec.column(name, spec) };
  if (!codec.media) return [main];
  const info: NewColumn = {
    name: infoColumnName(name),
    htype: 'json',
    dtype: 'json',
    sampleCompression: 'none',
    chunkCompression: 'lz4',
    meta: { hidden: true, infoOf: name },
  };
  return [main, info];
}

/** The core's options: chunk size, and link options defaulting to the dataset's own storage options. */
function coreOptions(options: OpenOptions): CoreOptions {
  return {
    chunkSizeBytes: options.chunkSizeBytes,
    maxCommitAttempts: options.maxCommitAttempts,
    commitTimeoutMs: options.commitTimeoutMs,
    links: options.links ?? { s3: options.s3, local: options.local, http: options.http },
    onStale: options.onStale,
  };
}
