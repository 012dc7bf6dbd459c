import { StrataError, isStrataError, throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { type Sample, decodeChunk, encodeChunk, sampleAt } from './chunk.js';
import { type ColumnAppend, ColumnWriter, type ColumnWriterOptions, newChunkKey } from './column-writer.js';
import type { ChunkRef, ColumnManifest, Manifest } from './manifest.js';
import { publishManifest, readLatestManifest } from './versions.js';

/** A column to add in a transaction (its id is assigned here). */
export type NewColumn = Omit<ColumnManifest, 'id' | 'length' | 'chunks'>;

export interface TransactionOptions extends ColumnWriterOptions {
  /** Identifies the writer in manifests (Strata version). */
  readonly writer: string;
  /** Times a pure append is rebased onto a newer version after losing a race. Default 10. */
  readonly maxRebases?: number;
}

/**
 * One atomic change to a dataset. Chunks are uploaded as they fill; `commit` publishes the next
 * manifest with put-if-absent. Losing the race: a pure row append is rebased onto the winner's
 * version and retried; any other change fails with CONFLICT.
 */
export class Transaction {
  private readonly columns: ColumnManifest[];
  private readonly writers = new Map<string, ColumnWriter>();
  private datasetMeta: Record<string, unknown>;
  private rows = 0;
  private pureAppend = true;
  private done = false;

  constructor(
    private readonly storage: Storage,
    readonly base: Manifest,
    private readonly options: TransactionOptions,
  ) {
    this.columns = base.columns.map((c) => ({ ...c }));
    this.datasetMeta = { ...base.meta };
  }

  get rowsAppended(): number {
    return this.rows;
  }

  get schema(): readonly ColumnManifest[] {
    return this.columns;
  }

  addColumn(spec: NewColumn): void {
    this.assertOpen();
    if (this.columns.some((c) => c.name === spec.name)) {
      throw new StrataError('CONFLICT', `column ${spec.name} already exists`, {
        column: spec.name,
        hint: 'choose another name',
      });
    }
    const used = new Set(this.columns.map((c) => c.id));
    let n = this.columns.length;
    while (used.has(`c${n}`)) n++;
    this.columns.push({ ...spec, id: `c${n}`, length: 0, chunks: [] });
    this.pureAppend = false;
  }

  setColumnMeta(name: string, meta: Record<string, unknown>): void {
    this.assertOpen();
    const i = this.index(name);
    this.columns[i] = { ...this.columns[i], meta: { ...meta } };
    this.pureAppend = false;
  }

  setMeta(meta: Record<string, unknown>): void {
    this.assertOpen();
    this.datasetMeta = { ...meta };
    this.pureAppend = false;
  }

  /**
   * Appends one row; columns missing from `values` get null, except derived columns (those with
   * `meta.lineage`, e.g. computed embeddings), which are left short so the job that derives them
   * can fill the new rows later.
   */
  async appendRow(values: Readonly<Record<string, Sample | null | undefined>>): Promise<void> {
    this.assertOpen();
    throwIfAborted(this.options.signal, 'append');
    const rowIndex = this.base.length + this.rows;
    for (const c of this.columns) {
      if (values[c.name] === undefined && isDerived(c) && !this.writers.has(c.name)) continue;
      const w = await this.writer(c.name, rowIndex);
      await w.append(values[c.name] ?? null);
    }
    this.rows++;
  }

  /** Appends samples to one column only (e.g. an embedding column catching up with the rows). */
  async appendToColumn(name: string, sample: Sample | null): Promise<void> {
    this.assertOpen();
    const c = this.columns[this.index(name)];
    const w = await this.writer(name, c.length);
    if (c.length + w.count >= this.base.length + this.rows) {
      throw new StrataError('INVALID_ARGUMENT', `column ${name} already has a value for every row`, {
        column: name,
        hint: 'append rows with appendRow instead',
      });
    }
    await w.append(sample);
    this.pureAppend = false;
  }

  /** Publishes the change as the next version. Returns the new manifest (the base when nothing changed). */
  async commit(message: string): Promise<Manifest> {
    this.assertOpen();
    this.done = true;
    const appends = new Map<string, ColumnAppend>();
    try {
      for (const [name, w] of this.writers) appends.set(name, await w.finish());
    } catch (err) {
      await this.abandon();
      throw err;
    }
    const changed = appends.size > 0 || !this.pureAppend;
    if (!changed) return this.base;
    let base = this.base;
    const maxRebases = this.options.maxRebases ?? 10;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(this.options.signal, 'commit');
      const next = this.build(base, appends, message);
      try {
        await publishManifest(this.storage, next, this.options.signal);
        return next;
      } catch (err) {
        if (!isStrataError(err, 'CONFLICT')) throw err;
        if (!this.pureAppend || attempt >= maxRebases) {
          throw new StrataError(
            'CONFLICT',
            `another writer committed version ${next.version} of ${this.storage.uri} first`,
            {
              uri: this.storage.uri,
              version: next.version,
              hint: this.pureAppend
                ? 'too many concurrent appends; retry'
                : 'reopen the dataset at its latest version and apply the change again',
              cause: err,
            },
          );
        }
        const latest = await readLatestManifest(this.storage, this.options.signal);
        await this.rebase(base, latest, appends);
        base = latest;
      }
    }
  }

  /** Discards the transaction; uploaded chunks stay unreferenced until `vacuum`. */
  async abandon(): Promise<void> {
    this.done = true;
    await Promise.all([...this.writers.values()].map((w) => w.abandon()));
  }

  private build(base: Manifest, appends: Map<string, ColumnAppend>, message: string): Manifest {
    const byName = new Map(base.columns.map((c) => [c.name, c]));
    const columns = this.columns.map((mine) => {
      const current = byName.get(mine.name) ?? mine;
      const a = appends.get(mine.name);
      const meta = this.pureAppend ? current.meta : mine.meta;
      if (!a) return { ...current, meta };
      const kept = a.replacesTail ? current.chunks.slice(0, -1) : current.chunks;
      const chunks: ChunkRef[] = kept.concat(a.chunks);
      const length = chunks.reduce((n, c) => n + c.samples, 0);
      return { ...current, meta, chunks, length };
    });
    return {
      ...base,
      version: base.version + 1,
      parent: base.version,
      timestampMs: Date.now(),
      message,
      length: base.length + this.rows,
      columns,
      meta: this.pureAppend ? base.meta : this.datasetMeta,
      writer: this.options.writer,
    };
  }

  /** Re-targets appended chunks onto `latest`: same schema required; merged tail chunks are rewritten. */
  private async rebase(base: Manifest, latest: Manifest, appends: Map<string, ColumnAppend>): Promise<void> {
    const same =
      latest.columns.length === this.columns.length &&
      this.columns.every((c) => {
        const l = latest.columns.find((x) => x.name === c.name);
        return (
          l &&
          l.dtype === c.dtype &&
          l.sampleCompression === c.sampleCompression &&
          l.chunkCompression === c.chunkCompression &&
          (l.length === latest.length || !appends.has(c.name))
        );
      });
    if (!same) {
      throw new StrataError(
        'CONFLICT',
        `${this.storage.uri} changed schema in version ${latest.version} while appending`,
        {
          uri: this.storage.uri,
          hint: 'reopen the dataset and append again',
        },
      );
    }
    for (const [name, a] of appends) {
      if (!a.replacesTail) continue;
      const oldTail = base.columns.find((c) => c.name === name)!.chunks.at(-1)!;
      const merged = a.chunks[0];
      const chunk = decodeChunk(await this.storage.get(merged.key, { signal: this.options.signal }), merged.key);
      const mine: (Sample | null)[] = [];
      for (let i = oldTail.samples; i < chunk.header.count; i++) mine.push(sampleAt(chunk, i));
      const bytes = encodeChunk(chunk.header, mine);
      const col = this.columns.find((c) => c.name === name)!;
      const key = newChunkKey(col.id);
      await this.storage.put(key, bytes, { signal: this.options.signal });
      const ref: ChunkRef = {
        key,
        samples: mine.length,
        bytes: bytes.byteLength,
        headerBytes: new DataView(bytes.buffer).getUint32(16, true),
      };
      appends.set(name, { ...a, replacesTail: false, chunks: [ref, ...a.chunks.slice(1)] });
    }
  }

  private async writer(name: string, fillTo: number): Promise<ColumnWriter> {
    let w = this.writers.get(name);
    if (!w) {
      const c = this.columns[this.index(name)];
      w = new ColumnWriter(this.storage, c, this.options);
      this.writers.set(name, w);
      // A column shorter than the rows (e.g. a partly computed embedding) is padded with nulls first.
      if (c.length < fillTo) this.pureAppend = false;
      for (let i = c.length; i < fillTo; i++) await w.append(null);
    }
    return w;
  }

  private index(name: string): number {
    const i = this.columns.findIndex((c) => c.name === name);
    if (i < 0) {
      throw new StrataError('NOT_FOUND', `column ${name} does not exist in ${this.storage.uri}`, {
        column: name,
        uri: this.storage.uri,
        hint: `columns are: ${this.columns.map((c) => c.name).join(', ') || '(none)'}`,
      });
    }
    return i;
  }

  private assertOpen(): void {
    if (this.done)
      throw new StrataError('INVALID_ARGUMENT', 'transaction already committed or abandoned', {
        hint: 'start a new one',
      });
  }
}

/** Columns computed from others (they carry lineage): appends leave them short instead of null-padding. */
export function isDerived(c: ColumnManifest): boolean {
  return (c.meta as Record<string, unknown>).lineage !== undefined;
}
