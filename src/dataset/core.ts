import { StrataError, throwIfAborted } from '../errors.js';
import type { Sample } from '../format/chunk.js';
import type { AnyManifest, ColumnSchema } from '../format/manifest-v2.js';
import { MAIN, type Ref } from '../format/refs.js';
import { TransactionV2 } from '../format/transaction-v2.js';
import { type CommitJobResult, checkJobId, commitStagedJob, putStagedShard } from '../format/staged-jobs.js';
import { VersionColumnReader } from '../format/version-column-reader.js';
import { VersionReader } from '../format/version-reader.js';
import type { Storage } from '../storage/storage.js';
import { type CellSource, mediaCell } from './cells.js';
import { codecFor } from './htypes/index.js';
import { LinkResolver } from './links.js';
import type { OpenStorageOptions } from '../storage/open.js';
import { type ColumnSpec, infoColumnName, isHiddenColumn } from './schema.js';
import { type OnStale, maskStale } from './derived/row-lineage.js';
import { STRATA_VERSION } from '../version.js';
import type { VersionSummary } from './read.js';
import { writeScope } from './write-scope.js';

export interface CoreOptions {
  /** Target chunk size for writes. Default 8 MiB. */
  readonly chunkSizeBytes?: number;
  /** Commit attempts (rebases onto concurrent commits included) before CONFLICT. Default 100. */
  readonly maxCommitAttempts?: number;
  /** Time budget of one commit, rebases included. Default 120 000. */
  readonly commitTimeoutMs?: number;
  /** Storage options for opening linked files (htype `link`). Default: none (local files, S3 with the default credential chain). */
  readonly links?: OpenStorageOptions;
  /** The version key space commits go to (main or a branch). Default main. */
  readonly ref?: Ref;
  /** Reads of a stale derived value (see derived/row-lineage.ts): null (default) or CONFLICT. */
  readonly onStale?: OnStale;
}

export type { VersionSummary } from './read.js';

/** What a core reads: one version, its column readers and decoded-column caches (replaced, never cleared, by a commit). */
interface ReadState {
  readonly version: VersionReader;
  readonly summary: VersionSummary;
  readonly readers: Map<string, VersionColumnReader>;
  readonly values: Map<string, Promise<unknown[]>>;
  /** The read-only core pinned to this state (see `snapshot`). */
  snapshot?: DatasetCore;
}

/**
 * The state shared by a dataset and all its views: storage, the manifest of the open version,
 * column readers and decoded-column caches, and the pending write transaction. Views read a
 * `snapshot()`: a read-only core fixed at the version they were built on.
 */
export class DatasetCore {
  private state!: ReadState;
  private txn: TransactionV2 | undefined;
  /** True for a `snapshot()`: it reads one version and refuses writes. */
  readonly pinned: boolean;
  closed = false;
  /**
   * The explicit transaction (`ds.transaction()`) the pending changes belong to: while it is open,
   * only writes running for it (see write-scope.ts) may stage or publish changes.
   */
  explicit: object | undefined;
  /** False for a dataset derived from another (a branch it created, a checkout): close leaves the storage open. */
  ownsStorage = true;
  readonly links: LinkResolver;

  constructor(
    readonly storage: Storage,
    manifest: AnyManifest,
    readonly options: CoreOptions = {},
    from?: DatasetCore,
  ) {
    this.links = from?.links ?? new LinkResolver(options.links);
    this.pinned = from !== undefined;
    if (from) {
      this.state = from.state;
      this.ownsStorage = false;
    } else this.setManifest(manifest);
  }

  /**
   * A read-only core fixed at the open version, sharing its readers and caches until a commit
   * moves this core on (one per version: views built on the same version share it). Views hold
   * one, so they read the version they were built on, whatever is committed later.
   */
  snapshot(): DatasetCore {
    if (this.pinned) return this;
    return (this.state.snapshot ??= new DatasetCore(this.storage, this.state.version.manifest, this.options, this));
  }

  /** The open version's reader. */
  get version(): VersionReader {
    return this.state.version;
  }

  /** The open version's counters, schema and metadata. */
  get manifest(): VersionSummary {
    return this.state.summary;
  }

  get uri(): string {
    return this.storage.uri;
  }

  /** The branch this dataset reads and commits on (main when not opened on a branch). */
  get ref(): Ref {
    return this.options.ref ?? MAIN;
  }

  /** User-visible column names, in schema order. */
  visibleColumns(): string[] {
    return this.manifest.columns.filter((c) => !isHiddenColumn(c.name)).map((c) => c.name);
  }

  columnManifest(name: string): ColumnSchema {
    const c = this.manifest.columns.find((x) => x.name === name);
    if (!c) {
      throw new StrataError(
        'NOT_FOUND',
        `column ${name} does not exist in ${this.uri} (version ${this.manifest.version})`,
        {
          column: name,
          uri: this.uri,
          hint: `columns are: ${this.visibleColumns().join(', ') || '(none)'}`,
        },
      );
    }
    return c;
  }

  /** The user-facing spec of a column, rebuilt from its manifest entry. */
  spec(name: string): ColumnSpec {
    const c = this.columnManifest(name);
    const m = c.meta as Record<string, unknown>;
    switch (c.htype) {
      case 'image':
      case 'video':
        return { htype: c.htype, sampleCompression: c.sampleCompression };
      case 'class_label':
        return { htype: 'class_label', classNames: (m.classNames as string[]) ?? [] };
      case 'bbox':
        return { htype: 'bbox', format: m.format as 'ltrb', coords: m.coords as 'pixel' };
      case 'embedding':
        return { htype: 'embedding', dim: m.dim as number, meta: m };
      case 'link':
        return { htype: 'link', target: m.target as 'image' };
      case 'generic':
        return {
          htype: 'generic',
          dtype: c.dtype,
          shape: m.shape as number[] | undefined,
          chunkCompression: c.chunkCompression,
        };
      default:
        return { htype: c.htype as 'text' };
    }
  }

  isMedia(name: string): boolean {
    return codecFor(this.columnManifest(name).htype, name).media;
  }

  /** Reads one column across the version's fragments (sample, scan, shape, byteSource, stats). */
  reader(name: string): VersionColumnReader {
    let r = this.state.readers.get(name);
    if (!r) {
      r = new VersionColumnReader(this.version, this.columnManifest(name));
      this.state.readers.set(name, r);
    }
    return r;
  }

  /** Values of `name` at the given rows: decoded tabular values, or lazy media cells. */
  async readCells(name: string, rows: ArrayLike<number>, signal?: AbortSignal): Promise<unknown[]> {
    const c = this.columnManifest(name);
    const codec = codecFor(c.htype, name);
    if (codec.media) {
      const infos = await this.readCells(infoColumnName(name), rows, signal);
      const spec = this.spec(name);
      return infos.map((info, j) => {
        const record = info as Record<string, unknown> | null;
        return mediaCell(spec, record, this.cellSource(name, rows[j], record));
      });
    }
    const cached = this.state.values.get(name);
    if (cached) {
      const all = await cached;
      return Array.from(rows, (i) => all[i] ?? null);
    }
    const reader = this.reader(name);
    const out = new Array<unknown>(rows.length);
    for (let j = 0; j < rows.length; j++) {
      throwIfAborted(signal, 'read');
      const row = rows[j];
      out[j] = codec.decode(await reader.sample(row, signal), { column: name, row, dtype: c.dtype, meta: c.meta });
    }
    await maskStale(this, name, rows, out, this.options.onStale ?? 'null', signal);
    return out;
  }

  /** Every value of a tabular column (whole chunks, cached until the version changes). */
  columnValues(name: string, signal?: AbortSignal): Promise<unknown[]> {
    let p = this.state.values.get(name);
    if (!p) {
      p = this.loadColumn(name, signal);
      p.catch(() => this.state.values.delete(name));
      this.state.values.set(name, p);
    }
    return p;
  }

  private async loadColumn(name: string, signal?: AbortSignal): Promise<unknown[]> {
    const c = this.columnManifest(name);
    const codec = codecFor(c.htype, name);
    if (codec.media) {
      const rows = Array.from({ length: this.manifest.length }, (_, i) => i);
      return this.readCells(name, rows, signal);
    }
    const out = new Array<unknown>(this.manifest.length).fill(null);
    for await (const run of this.reader(name).scan(0, this.manifest.length, { signal })) {
      for (let j = 0; j < run.samples.length; j++) {
        const row = run.start + j;
        out[row] = codec.decode(run.samples[j], { column: name, row, dtype: c.dtype, meta: c.meta });
      }
    }
    await maskStale(this, name, null, out, this.options.onStale ?? 'null', signal);
    return out;
  }

  /** Where a media cell's bytes are: its chunk sample, or (links) the file named in its info record. */
  private cellSource(name: string, row: number, info: Record<string, unknown> | null): CellSource {
    if (this.columnManifest(name).htype === 'link' && info && typeof info.url === 'string') {
      const url = info.url;
      const knownSize = typeof info.size === 'number' ? info.size : undefined;
      return {
        column: name,
        row,
        url,
        bytes: async (signal) => {
          const f = await this.links.resolve(url);
          return f.storage.get(f.key, { signal });
        },
        byteSource: async (signal) => {
          const f = await this.links.resolve(url);
          const size = knownSize ?? (await f.storage.size(f.key)) ?? 0;
          return { size, read: (o: number, n: number) => f.storage.getRange(f.key, o, n, { signal }) };
        },
      };
    }
    const reader = this.reader(name);
    return {
      column: name,
      row,
      bytes: async (signal) => (await reader.sample(row, signal))?.bytes ?? new Uint8Array(0),
      byteSource: async (signal) =>
        (await reader.byteSource(row, signal)) ?? { size: 0, read: () => Promise.resolve(new Uint8Array(0)) },
    };
  }

  // ---- writing ----

  /** The pending transaction, started on first use (`signal` aborts its writes when it starts it). */
  transaction(signal?: AbortSignal): TransactionV2 {
    this.assertOpen();
    this.assertWriter();
    this.txn ??= new TransactionV2(this.storage, this.version, {
      signal,
      writer: `strata ${STRATA_VERSION}`,
      chunkSizeBytes: this.options.chunkSizeBytes,
      maxCommitAttempts: this.options.maxCommitAttempts,
      commitTimeoutMs: this.options.commitTimeoutMs,
      ref: this.ref,
    });
    return this.txn;
  }

  /** Staged changes, or an open explicit transaction (which may stage some at any time). */
  get hasPendingChanges(): boolean {
    return this.txn !== undefined || this.explicit !== undefined;
  }

  /**
   * Encodes one row through the htypes: validation happens here, before anything is buffered.
   * Column metadata changes (e.g. new class names) go to the transaction at once, or into
   * `pendingMeta` when given, for the caller to apply once every row of a batch encoded.
   */
  async encodeRow(
    row: Readonly<Record<string, unknown>>,
    rowIndex: number,
    pendingMeta?: Map<string, Record<string, unknown>>,
  ): Promise<Record<string, Sample | null>> {
    const txn = this.transaction();
    if (typeof row !== 'object' || row === null || Array.isArray(row) || ArrayBuffer.isView(row)) {
      throw new StrataError('INVALID_ARGUMENT', `row ${rowIndex}: expected an object keyed by column name`, {
        row: rowIndex,
        hint: `got ${row === null ? 'null' : Array.isArray(row) ? 'an array' : typeof row}; append({ col: value }) or append([{...}, {...}])`,
      });
    }
    const names = new Set(this.visibleColumnsOf(txn));
    for (const k of Object.keys(row)) {
      if (!names.has(k)) {
        throw new StrataError('INVALID_ARGUMENT', `row ${rowIndex}: unknown column ${k}`, {
          row: rowIndex,
          column: k,
          hint: `columns are: ${[...names].join(', ')}; add it with addColumn first`,
        });
      }
    }
    const out: Record<string, Sample | null> = Object.create(null) as Record<string, Sample | null>;
    for (const name of names) {
      const col = txn.schema.find((c) => c.name === name)!;
      const value = Object.hasOwn(row, name) ? row[name] : undefined;
      if (value === undefined && col.meta.lineage !== undefined) continue; // left short for the job that derives it
      const codec = codecFor(col.htype, name);
      const meta = pendingMeta?.get(name) ?? col.meta;
      const enc = await codec.encode(value, {
        column: name,
        row: rowIndex,
        dtype: col.dtype,
        meta: { ...meta, sampleCompression: col.sampleCompression },
        updateMeta: (next) => {
          const { sampleCompression: _drop, ...rest } = next;
          if (pendingMeta) pendingMeta.set(name, rest);
          else txn.setColumnMeta(name, rest);
        },
        links: this.links,
      });
      out[name] = enc.sample;
      if (codec.media) {
        out[infoColumnName(name)] = enc.info
          ? { bytes: new TextEncoder().encode(JSON.stringify(enc.info)), shape: [] }
          : null;
      }
    }
    return out;
  }

  /**
   * Encodes and validates every row, then appends them to the transaction: a bad row anywhere
   * leaves the transaction (rows, metadata, uploaded chunks) as it was.
   */
  async appendRows(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Promise<void> {
    const txn = this.transaction();
    const pendingMeta = new Map<string, Record<string, unknown>>();
    const first = this.manifest.length + txn.rowsAppended;
    const encoded: Record<string, Sample | null>[] = [];
    for (let i = 0; i < rows.length; i++) encoded.push(await this.encodeRow(rows[i], first + i, pendingMeta));
    for (const [name, meta] of pendingMeta) txn.setColumnMeta(name, meta);
    for (const row of encoded) await txn.appendRow(row);
  }

  private visibleColumnsOf(txn: TransactionV2): string[] {
    return txn.schema.filter((c) => !isHiddenColumn(c.name)).map((c) => c.name);
  }

  /** Publishes the pending transaction; returns the version now open. */
  async commit(message: string): Promise<number> {
    this.assertOpen();
    this.assertWriter();
    const txn = this.txn;
    if (!txn) return this.manifest.version;
    this.txn = undefined;
    const m = await txn.commit(message);
    this.setManifest(m);
    return m.version;
  }

  /**
   * Writes the pending changes' objects and records them as `shard` of job `jobId` without
   * publishing a version (see format/staged-jobs.ts); with nothing pending, records an empty entry.
   * 'exists' when this shard of the job was staged before (that entry stands).
   */
  async stage(
    message: string,
    jobId: string,
    shard: { readonly index: number; readonly count: number },
    signal?: AbortSignal,
    part?: number,
  ): Promise<'staged' | 'exists'> {
    this.assertOpen();
    this.assertWriter();
    checkJobId(jobId);
    const txn = this.txn;
    this.txn = undefined;
    const staged = txn ? await txn.stage() : { actions: [], columnsWithData: [], baseVersion: this.manifest.version };
    return putStagedShard(
      this.storage,
      {
        format: 'strata-staged-shard',
        jobId,
        index: shard.index,
        count: shard.count,
        baseVersion: staged.baseVersion,
        branch: this.ref.branch,
        message,
        stagedAtMs: Date.now(),
        actions: staged.actions,
        columnsWithData: staged.columnsWithData,
      },
      signal,
      part,
    );
  }

  /** Publishes every staged shard of `jobId` as one version and opens it (see commitStagedJob). */
  async commitJob(
    jobId: string,
    options: { readonly allowPartial?: boolean; readonly signal?: AbortSignal },
  ): Promise<CommitJobResult> {
    this.assertOpen();
    this.assertWriter();
    if (this.txn) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `${this.uri} has uncommitted changes; commitJob() publishes only the job`,
        {
          uri: this.uri,
          hint: 'commit() or rollback() them first',
        },
      );
    }
    const r = await commitStagedJob(this.storage, jobId, {
      writer: `strata ${STRATA_VERSION}`,
      ref: this.ref,
      allowPartial: options.allowPartial,
      maxCommitAttempts: this.options.maxCommitAttempts,
      commitTimeoutMs: this.options.commitTimeoutMs,
      signal: options.signal,
    });
    if (r.manifest) this.setManifest(r.manifest);
    return r;
  }

  /** Drops the pending changes (those of an open explicit transaction too: it ends). */
  async rollback(): Promise<void> {
    const txn = this.txn;
    this.txn = undefined;
    this.explicit = undefined;
    await txn?.abandon();
  }

  setManifest(m: AnyManifest): void {
    if (this.pinned) throw this.pinnedError('change version');
    const version = new VersionReader(this.storage, m);
    const summary = {
      version: m.version,
      parent: m.parent,
      timestampMs: m.timestampMs,
      message: m.message,
      writer: m.writer,
      length: m.length,
      meta: m.meta,
      columns: version.schema,
    };
    this.state = { version, summary, readers: new Map(), values: new Map() };
  }

  private pinnedError(op: string): StrataError {
    return new StrataError(
      'INVALID_ARGUMENT',
      `cannot ${op}: this view reads version ${this.manifest.version} of ${this.uri} as it was when the view was built`,
      { uri: this.uri, hint: 'write through the dataset itself (or a transaction), then build the view again' },
    );
  }

  /** True when the running write belongs to the open explicit transaction. */
  get inExplicitTransaction(): boolean {
    return this.explicit !== undefined && writeScope.getStore() === this.explicit;
  }

  /** While an explicit transaction is open, writes from outside it are refused. */
  private assertWriter(): void {
    if (this.pinned) throw this.pinnedError('write');
    if (this.explicit !== undefined && writeScope.getStore() !== this.explicit) {
      throw new StrataError('INVALID_ARGUMENT', `dataset ${this.uri} has an open transaction`, {
        uri: this.uri,
        hint: 'write through the transaction (tx.append, tx.update, ...) and tx.commit() it, or dispose it first',
      });
    }
  }

  private assertOpen(): void {
    if (this.closed)
      throw new StrataError('INVALID_ARGUMENT', `dataset ${this.uri} is closed`, {
        uri: this.uri,
        hint: 'open it again',
      });
  }
}
