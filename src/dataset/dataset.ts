import type { Table as ArrowTable } from 'apache-arrow';
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
import { codecFor, normalizeSpec } from './htypes/index.js';
import { type ColumnSummary, describeColumns } from './ops/describe.js';
import { type RowMatch, type RowPredicate, filterRows } from './ops/filter.js';
import { type FormatOptions, formatTable } from './ops/format.js';
import { type GroupCount, countBy, groupRows } from './ops/group-by.js';
import {
  type MergeResult,
  type RowChanges,
  type RowSelector,
  deleteRows,
  mergeRows,
  updateRows,
} from './ops/mutate.js';
import { sortRows } from './ops/sort.js';
import { dropColumn, renameColumn } from './ops/columns.js';
import { type DeriveFn, type DeriveOptions, derive, refreshDerived } from './ops/derive.js';
import { type RefreshColumnOptions, type RefreshSummary, refresherFor } from './derived/refresh.js';
import { type OnStale, markStale, staleAt, staleRows, verifyStamps } from './derived/row-lineage.js';
import { type ColumnSpec, type ColumnSpecInput, type Schema, infoColumnName, validateColumnName } from './schema.js';
import { type Batch, type BatchesOptions, batches } from './batches/index.js';
import type { FromTableOptions, ToArrowOptions, ToDanfoOptions, ToParquetOptions } from '../interop/types.js';
import type { DatasetHit, DatasetSearchOptions, SearchQuery } from '../embed/dataset-search.js';
import type { CreateIndexOptions, IndexEntry } from '../embed/index-store.js';

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

export interface CreateOptions extends Omit<OpenOptions, 'version' | 'tag' | 'branch'> {
  readonly schema: Schema;
  /** What to do when a dataset already exists at the URI. Default 'error' (CONFLICT). */
  readonly ifExists?: 'error' | 'open';
}

/**
 * A versioned dataset of named columns (images, videos, labels, boxes, embeddings, ...), opened
 * like a DataFrame. Views (`head`, `slice`, `take`, `select`, `filter`, `sortBy`) are index lists
 * over the same version: no data is copied and nothing is decoded until asked for.
 */
export class Dataset {
  private constructor(
    /** @internal */ readonly core: DatasetCore,
    private readonly rowIndex: Uint32Array | null,
    private readonly selected: readonly string[] | null,
  ) {}

  /** Creates an empty dataset with the given schema (version 0). */
  static async create(uri: string, options: CreateOptions): Promise<Dataset> {
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
        if (options.ifExists === 'open') return Dataset.open(uri, { ...options, storage });
        throw new StrataError('CONFLICT', `a dataset already exists at ${storage.uri}`, {
          uri: storage.uri,
          hint: "open it with Dataset.open, or pass { ifExists: 'open' }",
        });
      }
      throw err;
    }
    return new Dataset(new DatasetCore(storage, manifest, coreOptions(options)), null, null);
  }

  /**
   * Opens the latest version (found through the `_latest.json` hint, verified by probing: about 3
   * requests), or `options.version`. Reads one manifest; no fragment or chunk is touched.
   */
  static async open(uri: string, options: OpenOptions = {}): Promise<Dataset> {
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
    return new Dataset(new DatasetCore(storage, manifest, { ...coreOptions(options), ref }), null, null);
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

  /** Rows in this view. */
  get length(): number {
    return this.rowIndex ? this.rowIndex.length : this.core.manifest.length;
  }

  /** Visible column names of this view. */
  get columns(): string[] {
    return this.selected ? [...this.selected] : this.core.visibleColumns();
  }

  get schema(): Record<string, ColumnSpec> {
    return Object.fromEntries(this.columns.map((c) => [c, this.core.spec(c)]));
  }

  /** Dataset-level metadata (vector indexes and the like). */
  get meta(): Readonly<Record<string, unknown>> {
    return this.core.manifest.meta;
  }

  /** Metadata of one column (class names, bbox format, embedding lineage, ...). */
  columnMeta(column: string): Readonly<Record<string, unknown>> {
    return this.core.columnManifest(column).meta;
  }

  /** Physical row numbers of this view (a copy). */
  indices(): Uint32Array {
    return this.rows().slice();
  }

  // ---- views ----

  head(n = 5): Dataset {
    return this.slice(0, n);
  }

  tail(n = 5): Dataset {
    return this.slice(Math.max(0, this.length - n), this.length);
  }

  slice(start = 0, end = this.length): Dataset {
    const s = clamp(start < 0 ? this.length + start : start, this.length);
    const e = clamp(end < 0 ? this.length + end : end, this.length);
    return this.view(this.rows().subarray(s, Math.max(s, e)));
  }

  take(indices: ArrayLike<number>): Dataset {
    const rows = this.rows();
    const out = new Uint32Array(indices.length);
    for (let j = 0; j < indices.length; j++) out[j] = rows[this.checkRow(indices[j])];
    return this.view(out);
  }

  select(columns: readonly string[]): Dataset {
    for (const c of columns) this.core.columnManifest(c);
    return new Dataset(this.core, this.rowIndex, [...columns]);
  }

  async filter(predicate: RowPredicate | RowMatch, options: { signal?: AbortSignal } = {}): Promise<Dataset> {
    return this.view(await filterRows(this.core, this.rows(), this.columns, predicate, options.signal));
  }

  async sortBy(column: string, options: { descending?: boolean; signal?: AbortSignal } = {}): Promise<Dataset> {
    return this.view(await sortRows(this.core, this.rows(), column, options));
  }

  groupBy(column: string): { count(): Promise<GroupCount[]>; views(): Promise<Map<unknown, Dataset>> } {
    return {
      count: () => countBy(this.core, this.rows(), column),
      views: async () =>
        new Map([...(await groupRows(this.core, this.rows(), column))].map(([k, r]) => [k, this.view(r)])),
    };
  }

  describe(options: { signal?: AbortSignal } = {}): Promise<ColumnSummary[]> {
    return describeColumns(this.core, this.rows(), this.columns, options.signal);
  }

  // ---- reading ----

  /** Row i of this view: tabular values decoded, media as lazy cells. */
  async row(i: number, options: { signal?: AbortSignal } = {}): Promise<Record<string, unknown>> {
    const physical = this.rows()[this.checkRow(i)];
    const out: Record<string, unknown> = {};
    for (const c of this.columns) out[c] = (await this.core.readCells(c, [physical], options.signal))[0];
    markStale(out, (await staleAt(this.core, this.columns, [physical], options.signal))[0]);
    return out;
  }

  /** All values of one column in this view. */
  async values(column: string, options: { signal?: AbortSignal } = {}): Promise<unknown[]> {
    const all = await this.core.columnValues(column, options.signal);
    return this.rowIndex ? Array.from(this.rowIndex, (i) => all[i]) : all.slice();
  }

  /** Rows in batches of `batchSize` (default 1024): bounded memory, cells are lazy. */
  async *iterRows(
    options: { batchSize?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const size = options.batchSize ?? 1024;
    const rows = this.rows();
    for (let s = 0; s < rows.length; s += size) {
      const part = rows.subarray(s, Math.min(rows.length, s + size));
      const cols = await Promise.all(this.columns.map((c) => this.core.readCells(c, part, options.signal)));
      const batch = Array.from(part, (_, j) => Object.fromEntries(this.columns.map((c, k) => [c, cols[k][j]])));
      const stale = await staleAt(this.core, this.columns, part, options.signal);
      batch.forEach((row, j) => markStale(row, stale[j]));
      yield batch;
    }
  }

  /** Collects every row of the view (explicit: can be large). */
  async toArray(options: { signal?: AbortSignal } = {}): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for await (const batch of this.iterRows({ batchSize: 4096, signal: options.signal })) out.push(...batch);
    return out;
  }

  /** Model-ready batches: decoded image tensors plus the tabular columns (src/dataset/batches). */
  batches(options: BatchesOptions = {}): AsyncGenerator<Batch> {
    return batches(this.core, this.rows(), this.columns, options);
  }

  /** This view as an apache-arrow Table (src/interop/arrow.ts; loaded on first use). */
  async toArrow(options: ToArrowOptions = {}): Promise<ArrowTable> {
    return (await import('../interop/arrow.js')).toArrow(this, options);
  }

  /** Writes this view to a Parquet file that DuckDB/pyarrow read (src/interop/parquet.ts). */
  async toParquet(path: string, options: ToParquetOptions = {}): Promise<void> {
    return (await import('../interop/parquet.js')).toParquet(this, path, options);
  }

  /** The tabular columns as a danfojs-node DataFrame; danfo is imported only here. */
  async toDanfo(options: ToDanfoOptions = {}): Promise<DanfoDataFrame> {
    return (await import('../interop/danfo.js')).toDanfo(this, options);
  }

  /** A new dataset at `uri` from an Arrow table (htypes from Strata field metadata, else inferred). */
  static async fromArrow(table: ArrowTable, uri: string, options: FromTableOptions = {}): Promise<Dataset> {
    return (await import('../interop/arrow.js')).fromArrow(table, uri, options);
  }

  /** A new dataset at `uri` from a Parquet file. */
  static async fromParquet(path: string, uri: string, options: FromTableOptions = {}): Promise<Dataset> {
    return (await import('../interop/parquet.js')).fromParquet(path, uri, options);
  }

  /** A DataFrame-like table of the first and last rows; media shown as `<image 640×480×3 jpeg>`. */
  format(options: FormatOptions = {}): Promise<string> {
    return formatTable(this.core, this.rows(), this.columns, options);
  }

  async print(options: FormatOptions = {}): Promise<void> {
    console.log(`${this.toString()}\n${await this.format(options)}`);
  }

  /** One-line summary (synchronous: no data read). Use `format()`/`print()` for the rows. */
  toString(): string {
    const cols = this.columns.map((c) => `${c}: ${this.core.columnManifest(c).htype}`).join(', ');
    return `Dataset(${this.uri} @ v${this.version}, ${this.length} rows, ${cols})`;
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
    const v = this.core.version;
    const all = new Float64Array(v.length);
    for await (const slot of v.slots(0, v.length, options.signal))
      all.set(await v.rowIdsOf(slot, options.signal), slot.start);
    return this.rowIndex ? Float64Array.from(this.rowIndex, (p) => all[p]) : all;
  }

  /** Position in this view of the row with id `rowId`, or undefined when the view has no such live row. */
  async rowPosition(rowId: number, options: { signal?: AbortSignal } = {}): Promise<number | undefined> {
    const pos = await this.core.version.positionOf(rowId, options.signal);
    if (pos === undefined || !this.rowIndex) return pos;
    const j = this.rowIndex.indexOf(pos);
    return j < 0 ? undefined : j;
  }

  /** Publishes pending changes atomically as the next version; returns it. */
  async commit(message = ''): Promise<number> {
    return this.core.commit(message);
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

  /** Top-k rows by similarity of an embedding column to a vector, image or row (see src/embed/dataset-search.ts). */
  async search(column: string, query: SearchQuery, options: DatasetSearchOptions = {}): Promise<DatasetHit[]> {
    return (await import('../embed/dataset-search.js')).search(this, column, query, options);
  }

  /** Builds and persists an ANN (HNSW) index of an embedding column (see src/embed/index-store.ts). */
  async createIndex(column: string, options: CreateIndexOptions = {}): Promise<IndexEntry> {
    return (await import('../embed/index-store.js')).createIndex(this, column, options);
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
    return new Dataset(core, null, null);
  }

  /** @internal physical rows of this view */
  rows(): Uint32Array {
    return this.rowIndex ?? identity(this.core.manifest.length);
  }

  private view(rows: Uint32Array): Dataset {
    return new Dataset(this.core, rows, this.selected);
  }

  private checkRow(i: number): number {
    const j = i < 0 ? this.length + i : i;
    if (!Number.isInteger(j) || j < 0 || j >= this.length) {
      throw new StrataError('INVALID_ARGUMENT', `row ${i} is out of range for ${this.length} rows of ${this.uri}`, {
        row: i,
        uri: this.uri,
      });
    }
    return j;
  }

  private assertWholeDataset(op: string): void {
    if (this.rowIndex || this.selected) {
      throw new StrataError('INVALID_ARGUMENT', `${op} is not allowed on a view of ${this.uri}`, {
        hint: 'call it on the dataset itself',
      });
    }
  }
}

/** The stored columns for one declared column: the column itself plus, for media, its info column. */
function columnsFor(name: string, input: ColumnSpecInput): NewColumn[] {
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

let identityCache = new Uint32Array(0);
function identity(n: number): Uint32Array {
  if (identityCache.length < n) {
    identityCache = new Uint32Array(Math.max(n, identityCache.length * 2));
    for (let i = 0; i < identityCache.length; i++) identityCache[i] = i;
  }
  return identityCache.subarray(0, n);
}

function clamp(i: number, n: number): number {
  return Math.max(0, Math.min(n, Math.trunc(i)));
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
