import { StrataError, throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Action, AppendedFragment } from './actions.js';
import type { Sample } from './chunk.js';
import { ColumnWriter, type ColumnWriterOptions } from './column-writer.js';
import { withMigratedStats } from './migrate-stats.js';
import { commitActions } from './commit.js';
import { type FragmentFile, type Segment, encodeFragment, readFragment, rowIdRuns, withSegments } from './fragment.js';
import type { AnyManifest, ColumnSchema, FragmentRef } from './manifest-v2.js';
import { newColumnId, newFragmentKey } from './object-keys.js';
import { PendingDeletes } from './pending-deletes.js';
import type { Ref } from './refs.js';
import type { NewColumn } from './transaction.js';
import { VersionColumnReader } from './version-column-reader.js';
import type { VersionReader } from './version-reader.js';

export interface TransactionV2Options extends ColumnWriterOptions {
  /** Identifies the writer in manifests (Strata version). */
  readonly writer: string;
  /** Publication attempts before CONFLICT. Default 100. */
  readonly maxCommitAttempts?: number;
  /** Time budget of a commit including rebases. Default 120 000. */
  readonly commitTimeoutMs?: number;
  /** Rows per appended fragment. Default 1 048 576. */
  readonly maxFragmentRows?: number;
  /** The version key space the commit publishes in (main or a branch). Default main. */
  readonly ref?: Ref;
}

/** A column's samples being written into one fragment, from row `offset` of it. */
interface Run {
  readonly offset: number;
  readonly writer: ColumnWriter;
}

/** Fills of one existing fragment: per column id, runs in row order. */
interface Fill {
  readonly ref: FragmentRef;
  readonly runs: Map<string, Run[]>;
  segments?: Map<string, Segment[]>;
}

/**
 * One atomic change in format v2. Appended rows go to new fragment files; values for existing rows
 * (a derived column catching up) go to new copies of their fragment files; metadata changes are
 * recorded key by key. `commit` publishes them as actions (see commit.ts): a lost race is rebased
 * when the operations commute.
 */
export class TransactionV2 {
  private readonly columns: ColumnSchema[];
  private readonly added: ColumnSchema[] = [];
  private datasetMeta: Record<string, unknown>;
  private current = new Map<string, Run>();
  private fragmentRows = 0;
  /** Row ids of the fragment being built when its rows keep existing ids (updates), else null. */
  private fragmentIds: number[] | null = null;
  private rows = 0;
  private readonly appended: AppendedFragment[] = [];
  private readonly deletes: PendingDeletes;
  private readonly fills = new Map<number, Fill>();
  private readonly cursors = new Map<string, number>();
  private readonly withData = new Set<string>();
  /** Base columns dropped or renamed (id → new name) by this transaction, in call order. */
  private readonly schemaChanges: Action[] = [];
  private done = false;

  constructor(
    private readonly storage: Storage,
    readonly base: VersionReader,
    private readonly options: TransactionV2Options,
  ) {
    this.columns = base.schema.map((c) => ({ ...c }));
    this.datasetMeta = { ...base.meta };
    this.deletes = new PendingDeletes(storage, base, options.signal);
  }

  /** Rows deleted so far. */
  get rowsDeleted(): number {
    return this.deletes.size;
  }

  /** Deletes the row at position `pos` of the base version; returns its row id. */
  async deleteRow(pos: number): Promise<number> {
    this.assertOpen();
    throwIfAborted(this.options.signal, 'delete');
    return this.deletes.add(pos);
  }

  get rowsAppended(): number {
    return this.rows;
  }

  get schema(): readonly ColumnSchema[] {
    return this.columns;
  }

  /** Adds a column; `id` fixes its id (a staged job's shards add the same column under one id). */
  addColumn(spec: NewColumn, id: string = newColumnId()): void {
    this.assertOpen();
    if (this.columns.some((c) => c.name === spec.name)) {
      throw new StrataError('CONFLICT', `column ${spec.name} already exists`, {
        column: spec.name,
        hint: 'choose another name',
      });
    }
    const c = { ...spec, id };
    this.columns.push(c);
    this.added.push(c);
  }

  /**
   * Removes column `name` from the schema (metadata only: its stored segments stay in the fragment
   * files). Not allowed once this transaction wrote values of the column.
   */
  dropColumn(name: string): void {
    this.assertOpen();
    const i = this.index(name);
    const c = this.columns[i];
    if (this.current.has(c.id) || [...this.fills.values()].some((f) => f.runs.has(c.id))) {
      throw new StrataError('INVALID_ARGUMENT', `column ${name} has values pending in this transaction`, {
        column: name,
        hint: 'commit or abandon them before dropping the column',
      });
    }
    this.columns.splice(i, 1);
    const added = this.added.indexOf(c);
    if (added >= 0) this.added.splice(added, 1);
    else this.schemaChanges.push({ type: 'dropColumn', column: c.id });
  }

  /** Renames column `from` to `to` (CONFLICT when `to` is taken). */
  renameColumn(from: string, to: string): void {
    this.assertOpen();
    const i = this.index(from);
    if (this.columns.some((c) => c.name === to)) {
      throw new StrataError('CONFLICT', `column ${to} already exists`, { column: to, hint: 'choose another name' });
    }
    const c = this.columns[i];
    const renamed = { ...c, name: to };
    this.columns[i] = renamed;
    const added = this.added.indexOf(c);
    if (added >= 0) this.added[added] = renamed;
    else this.schemaChanges.push({ type: 'renameColumn', column: c.id, name: to });
  }

  /** Replaces a column's metadata (recorded as per-key changes). */
  setColumnMeta(name: string, meta: Record<string, unknown>): void {
    this.assertOpen();
    const i = this.index(name);
    this.columns[i] = { ...this.columns[i], meta: { ...meta } };
  }

  /** Replaces the dataset metadata (recorded as per-key changes). */
  setMeta(meta: Record<string, unknown>): void {
    this.assertOpen();
    this.datasetMeta = { ...meta };
  }

  /**
   * Appends one row; columns missing from `values` get null, except derived columns (with
   * `meta.lineage`), which stay uncovered so the job that derives them can fill the rows later.
   */
  async appendRow(
    values: Readonly<Record<string, Sample | null | undefined>>,
    options: { rowId?: number } = {},
  ): Promise<void> {
    this.assertOpen();
    throwIfAborted(this.options.signal, 'append');
    // rows keeping an id (an update's new copies) and new rows go to separate fragments
    if (this.fragmentRows > 0 && (options.rowId !== undefined) !== (this.fragmentIds !== null))
      await this.sealFragment();
    if (options.rowId !== undefined) (this.fragmentIds ??= []).push(options.rowId);
    for (const c of this.columns) {
      let run = this.current.get(c.id);
      if (!run) {
        if (values[c.name] === undefined && c.meta.lineage !== undefined) continue;
        run = { offset: this.fragmentRows, writer: this.newWriter(c) };
        this.current.set(c.id, run);
      }
      await run.writer.append(values[c.name] ?? null);
    }
    this.fragmentRows++;
    this.rows++;
    if (this.fragmentRows >= (this.options.maxFragmentRows ?? 1 << 20)) await this.sealFragment();
  }

  /** Stores a value for the first row of `name` that has none yet (a resumable derived-column job). */
  async appendToColumn(name: string, sample: Sample | null): Promise<void> {
    this.assertOpen();
    const c = this.columns[this.index(name)];
    let at = this.cursors.get(c.id);
    if (at === undefined) at = this.added.includes(c) ? 0 : await new VersionColumnReader(this.base, c).storedLength();
    if (at >= this.base.length) {
      throw new StrataError('INVALID_ARGUMENT', `column ${name} already has a value for every row`, {
        column: name,
        hint: 'append rows with appendRow instead',
      });
    }
    await this.fillRows(name, at, [sample]);
    this.cursors.set(c.id, at + 1);
  }

  /** Stores values of `name` for existing rows row, row+1, … that have none (CONFLICT at commit otherwise). */
  async fillRows(name: string, row: number, samples: ReadonlyArray<Sample | null>): Promise<void> {
    this.assertOpen();
    const c = this.columns[this.index(name)];
    if (!Number.isInteger(row) || row < 0 || row + samples.length > this.base.length) {
      throw new StrataError('INVALID_ARGUMENT', `rows ${row}..${row + samples.length - 1} are not all existing rows`, {
        column: name,
        row,
      });
    }
    for (let j = 0; j < samples.length; j++) {
      const { slot, offset: local } = await this.base.locate(row + j, this.options.signal);
      let fill = this.fills.get(slot.ref.id);
      if (!fill) this.fills.set(slot.ref.id, (fill = { ref: slot.ref, runs: new Map() }));
      const runs = fill.runs.get(c.id) ?? [];
      fill.runs.set(c.id, runs);
      let run = runs.at(-1);
      if (!run || run.offset + run.writer.count !== local)
        runs.push((run = { offset: local, writer: this.newWriter(c) }));
      await run.writer.append(samples[j]);
    }
  }

  /** Publishes the change as the next version; returns its manifest (the base's when nothing changed). */
  async commit(message: string): Promise<AnyManifest> {
    this.assertOpen();
    this.done = true;
    try {
      if (this.fragmentRows > 0) await this.sealFragment();
      const actions = await this.actions();
      if (actions.length === 0) return this.base.manifest;
      return await commitActions(this.storage, this.base.manifest, actions, {
        writer: this.options.writer,
        message,
        columnsWithData: this.withData,
        refill: (a, key) => this.refill(a.fragmentId, key),
        redelete: (a, ref) => this.deletes.redelete(a, ref),
        maxCommitAttempts: this.options.maxCommitAttempts,
        commitTimeoutMs: this.options.commitTimeoutMs,
        signal: this.options.signal,
        ref: this.options.ref,
      });
    } catch (err) {
      await this.abandon();
      throw err;
    }
  }

  /**
   * Writes the change's objects without publishing it (a shard of a two-phase job, see
   * staged-jobs.ts): returns the actions `commit` would publish and the column ids they store data under.
   */
  async stage(): Promise<{ actions: Action[]; columnsWithData: string[]; baseVersion: number }> {
    this.assertOpen();
    this.done = true;
    try {
      if (this.fragmentRows > 0) await this.sealFragment();
      const actions = await this.actions();
      return { actions, columnsWithData: [...this.withData], baseVersion: this.base.manifest.version };
    } catch (err) {
      await this.abandon();
      throw err;
    }
  }

  /** Discards the transaction; objects already written stay unreferenced until `vacuum`. */
  async abandon(): Promise<void> {
    this.done = true;
    const writers = [...this.current.values()].map((r) => r.writer);
    for (const f of this.fills.values()) for (const runs of f.runs.values()) writers.push(...runs.map((r) => r.writer));
    await Promise.all(writers.map((w) => w.abandon()));
  }

  private async actions(): Promise<Action[]> {
    const actions: Action[] = [];
    let migrated: string | undefined;
    const v1 = this.base.v1Fragment;
    const metaChanges = this.metaActions();
    if (
      v1 &&
      (this.appended.length ||
        this.fills.size ||
        this.added.length ||
        metaChanges.length ||
        this.deletes.size ||
        this.schemaChanges.length)
    ) {
      migrated = await this.putFragment(
        await withMigratedStats(this.storage, v1, this.base.schema, this.options.signal),
      );
      actions.push({ type: 'migrate', key: migrated });
    }
    // drops and renames first: a column added by this transaction may take a name they freed
    actions.push(...this.schemaChanges);
    for (const c of this.added) actions.push({ type: 'addColumn', column: this.columns.find((x) => x.id === c.id)! });
    actions.push(...metaChanges);
    if (this.appended.length) actions.push({ type: 'append', fragments: this.appended });
    actions.push(...(await this.deletes.actions()));
    for (const fill of this.fills.values()) {
      fill.segments = new Map();
      for (const [id, runs] of fill.runs) {
        const segs: Segment[] = [];
        for (const r of runs)
          segs.push({ offset: r.offset, rows: r.writer.count, chunks: (await r.writer.finish()).chunks });
        fill.segments.set(id, segs);
        this.withData.add(id);
      }
      const baseKey = migrated ?? fill.ref.key;
      const newKey = await this.putFragment(this.merge(await this.base.fragment(fill.ref, this.options.signal), fill));
      actions.push({ type: 'fill', columns: [...fill.runs.keys()], fragmentId: fill.ref.id, baseKey, newKey });
    }
    return actions;
  }

  private metaActions(): Action[] {
    const out: Action[] = [];
    for (const c of this.columns) {
      const before = this.base.schema.find((b) => b.id === c.id);
      if (!before) continue;
      for (const key of new Set([...Object.keys(before.meta), ...Object.keys(c.meta)])) {
        const [a, b] = [before.meta[key], c.meta[key]];
        if (JSON.stringify(a) === JSON.stringify(b)) continue;
        if (key === 'classNames' && Array.isArray(a) && Array.isArray(b) && a.every((n, i) => b[i] === n))
          out.push({ type: 'addClassNames', column: c.id, names: b.slice(a.length) as string[], baseCount: a.length });
        else if (!(key in c.meta)) out.push({ type: 'setColumnMeta', column: c.id, key, remove: true });
        else out.push({ type: 'setColumnMeta', column: c.id, key, value: b });
      }
    }
    const before = this.base.meta;
    for (const key of new Set([...Object.keys(before), ...Object.keys(this.datasetMeta)])) {
      if (JSON.stringify(before[key]) === JSON.stringify(this.datasetMeta[key])) continue;
      if (!(key in this.datasetMeta)) out.push({ type: 'setMeta', key, remove: true });
      else out.push({ type: 'setMeta', key, value: this.datasetMeta[key] });
    }
    return out;
  }

  private merge(file: FragmentFile, fill: Fill): FragmentFile {
    let out = file;
    for (const [id, segs] of fill.segments!)
      out = withSegments(out, id, segs, this.columns.find((c) => c.id === id)!.name);
    return out;
  }

  /** The fragment changed under a fill (another column was filled): a new copy with this fill's segments. */
  private async refill(fragmentId: number, currentKey: string): Promise<string> {
    const fill = this.fills.get(fragmentId)!;
    return this.putFragment(this.merge(await readFragment(this.storage, currentKey, this.options.signal), fill));
  }

  private async sealFragment(): Promise<void> {
    const columns: Record<string, Segment[]> = {};
    for (const [id, run] of this.current) {
      const a = await run.writer.finish();
      columns[id] = [{ offset: run.offset, rows: run.writer.count, chunks: a.chunks }];
      this.withData.add(id);
    }
    const ids = this.fragmentIds;
    const key = await this.putFragment({ rows: this.fragmentRows, rowIds: ids ? rowIdRuns(ids) : null, columns });
    this.appended.push(ids ? { key, rows: this.fragmentRows, ownRowIds: true } : { key, rows: this.fragmentRows });
    this.current = new Map();
    this.fragmentRows = 0;
    this.fragmentIds = null;
  }

  private async putFragment(f: FragmentFile): Promise<string> {
    const key = newFragmentKey();
    await this.storage.put(key, encodeFragment(f), { signal: this.options.signal, contentType: 'application/json' });
    return key;
  }

  private newWriter(c: ColumnSchema): ColumnWriter {
    return new ColumnWriter(this.storage, { ...c, length: 0, chunks: [] }, this.options);
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
