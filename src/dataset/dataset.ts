import type { Table as ArrowTable } from 'apache-arrow';
import type { DataFrame as DanfoDataFrame } from 'danfojs-node';
import { StrataError, isStrataError } from '../errors.js';
import { type ColumnSchema, emptyManifestV2, encodeManifestV2 } from '../format/manifest-v2.js';
import { versionKey } from '../format/manifest.js';
import type { VersionInfo } from '../format/versions.js';
import { readAnyManifest, readLatestAnyManifest, writeLatestHint } from '../format/latest.js';
import { newColumnId } from '../format/object-keys.js';
import { listAllVersions } from '../format/version-list.js';
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
import { sortRows } from './ops/sort.js';
import { type ColumnSpec, type ColumnSpecInput, type Schema, infoColumnName, validateColumnName } from './schema.js';
import { type Batch, type BatchesOptions, batches } from './batches/index.js';
import type { FromTableOptions, ToArrowOptions, ToDanfoOptions, ToParquetOptions } from '../interop/types.js';
import type { DatasetHit, DatasetSearchOptions, SearchQuery } from '../embed/dataset-search.js';
import type { CreateIndexOptions, IndexEntry } from '../embed/index-store.js';

export interface OpenOptions extends OpenStorageOptions {
  /** Version to open (time travel). Default: the latest. */
  readonly version?: number;
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
  readonly signal?: AbortSignal;
}

export interface CreateOptions extends Omit<OpenOptions, 'version'> {
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
    const storage = options.storage ?? (await openStorage(uri, { cacheBytes: 256 * 1024 * 1024, ...options }));
    const manifest =
      options.version === undefined
        ? await readLatestAnyManifest(storage, options.signal)
        : await readAnyManifest(storage, options.version, options.signal);
    return new Dataset(new DatasetCore(storage, manifest, coreOptions(options)), null, null);
  }

  get uri(): string {
    return this.core.uri;
  }

  get version(): number {
    return this.core.manifest.version;
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
      yield Array.from(part, (_, j) => Object.fromEntries(this.columns.map((c, k) => [c, cols[k][j]])));
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

  /** Sets dataset-level metadata (merged). Visible after `commit`. */
  setMeta(meta: Record<string, unknown>): void {
    const txn = this.core.transaction();
    txn.setMeta({ ...this.core.manifest.meta, ...meta });
  }

  /** Publishes pending changes atomically as the next version; returns it. */
  async commit(message = ''): Promise<number> {
    return this.core.commit(message);
  }

  /** Drops pending changes. */
  rollback(): Promise<void> {
    return this.core.rollback();
  }

  /** Every version with its time and message. */
  versions(options: { signal?: AbortSignal } = {}): Promise<VersionInfo[]> {
    return listAllVersions(this.core.storage, options.signal);
  }

  /** Re-reads the latest version (after another writer committed). */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<this> {
    this.core.setManifest(await readLatestAnyManifest(this.core.storage, options.signal));
    return this;
  }

  /** Another version of the same dataset (time travel), sharing storage and cache. */
  async checkout(version: number, options: { signal?: AbortSignal } = {}): Promise<Dataset> {
    const m = await readAnyManifest(this.core.storage, version, options.signal);
    return new Dataset(new DatasetCore(this.core.storage, m, this.core.options), null, null);
  }

  /** Top-k rows by similarity of an embedding column to a vector, image or row (see src/embed/dataset-search.ts). */
  async search(column: string, query: SearchQuery, options: DatasetSearchOptions = {}): Promise<DatasetHit[]> {
    return (await import('../embed/dataset-search.js')).search(this, column, query, options);
  }

  /** Builds and persists an ANN (HNSW) index of an embedding column (see src/embed/index-store.ts). */
  async createIndex(column: string, options: CreateIndexOptions = {}): Promise<IndexEntry> {
    return (await import('../embed/index-store.js')).createIndex(this, column, options);
  }

  vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    return vacuumStorage(this.core.storage, options);
  }

  /** Idempotent. Pending (uncommitted) changes are dropped. */
  async close(): Promise<void> {
    if (this.core.closed) return;
    await this.core.rollback();
    this.core.closed = true;
    await this.core.storage.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals ----

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
  };
}
