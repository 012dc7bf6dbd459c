/**
 * The write side of a dataset: one transaction on which every kind of change lands and whose
 * `commit` publishes them as one version. `await using tx = ds.transaction()`: leaving the scope
 * without `commit` rolls everything back (chunks it uploaded are abandoned; no version, nothing pending).
 */
import { StrataError } from '../errors.js';
import type { DatasetCore } from './core.js';
import type { Dataset } from './dataset.js';
import type { MergeResult, RowChanges, RowSelector } from './ops/mutate.js';
import type { ColumnSpecInput } from './schema.js';
import { writeScope } from './write-scope.js';

/** Where a transaction is: staging changes, or done (by `commit`, `rollback`/dispose, or its dataset's `rollback`/`close`). */
export const TRANSACTION_STATES = ['open', 'committed', 'rolledBack'] as const;
export type TransactionState = (typeof TRANSACTION_STATES)[number];

/** One row, or several, keyed by column name (as `ds.append` takes them). */
export type AppendRows = Readonly<Record<string, unknown>> | ReadonlyArray<Readonly<Record<string, unknown>>>;

/**
 * Changes staged together and published as one version by `commit`. The dataset's own write
 * methods (`ds.append`, ...) are refused while it is open; reads of the dataset see the version the
 * transaction started from (as do `update`, `delete` and `merge`: rows appended in the transaction
 * are not selected by them). Every method takes the same arguments as the `Dataset` method of its name.
 */
export class Transaction implements AsyncDisposable {
  private done: Exclude<TransactionState, 'open'> | undefined;

  /** @internal use `ds.transaction()` */
  constructor(
    private readonly ds: Dataset,
    private readonly core: DatasetCore,
  ) {}

  get state(): TransactionState {
    if (this.done === undefined && this.core.explicit !== this) this.done = 'rolledBack';
    return this.done ?? 'open';
  }

  async append(rows: AppendRows): Promise<void> {
    return this.run('append', () => this.ds.append(rows));
  }

  async extend(columns: Readonly<Record<string, readonly unknown[]>>): Promise<void> {
    return this.run('extend', () => this.ds.extend(columns));
  }

  addColumn(name: string, spec: ColumnSpecInput): void {
    this.run('addColumn', () => this.ds.addColumn(name, spec));
  }

  async appendToColumn(column: string, values: readonly unknown[]): Promise<void> {
    return this.run('appendToColumn', () => this.ds.appendToColumn(column, values));
  }

  async fillRows(column: string, row: number, values: readonly unknown[]): Promise<void> {
    return this.run('fillRows', () => this.ds.fillRows(column, row, values));
  }

  setColumnMeta(column: string, meta: Record<string, unknown>): void {
    this.run('setColumnMeta', () => this.ds.setColumnMeta(column, meta));
  }

  setMeta(meta: Record<string, unknown>): void {
    this.run('setMeta', () => this.ds.setMeta(meta));
  }

  async delete(selector: RowSelector, options: { signal?: AbortSignal } = {}): Promise<number> {
    return this.run('delete', () => this.ds.delete(selector, options));
  }

  async update(selector: RowSelector, changes: RowChanges, options: { signal?: AbortSignal } = {}): Promise<number> {
    return this.run('update', () => this.ds.update(selector, changes, options));
  }

  async merge(
    rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
    options: { on: string; signal?: AbortSignal },
  ): Promise<MergeResult> {
    return this.run('merge', () => this.ds.merge(rows, options));
  }

  /**
   * Publishes every staged change as one version and returns it (the open version when nothing was
   * staged: no empty version is written). The dataset then has that version open. On failure
   * (e.g. CONFLICT) nothing is published and the transaction is over.
   */
  async commit(message = ''): Promise<number> {
    this.assertOpen('commit');
    let published = false;
    try {
      const version = await writeScope.run(this, () => this.core.commit(message));
      published = true;
      return version;
    } finally {
      this.finish(published ? 'committed' : 'rolledBack');
    }
  }

  /** Drops every staged change; idempotent (a finished transaction stays as it ended). */
  async rollback(): Promise<void> {
    if (this.state !== 'open') return;
    await this.core.rollback();
    this.done = 'rolledBack';
  }

  /** Rolls back unless committed (`await using tx = ds.transaction()`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.rollback();
  }

  private run<T>(op: string, write: () => T): T {
    this.assertOpen(op);
    return writeScope.run(this, write);
  }

  private finish(state: Exclude<TransactionState, 'open'>): void {
    this.done ??= state;
    if (this.core.explicit === this) this.core.explicit = undefined;
  }

  private assertOpen(op: string): void {
    const state = this.state;
    if (state !== 'open') {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `${op}: the transaction on ${this.ds.uri} is ${state === 'committed' ? 'committed' : 'rolled back'}`,
        { uri: this.ds.uri, hint: 'start another with ds.transaction()' },
      );
    }
  }
}

/** Opens the dataset's explicit transaction: INVALID_ARGUMENT while one is open or changes are pending. */
export function openTransaction(ds: Dataset, core: DatasetCore): Transaction {
  if (core.closed) {
    throw new StrataError('INVALID_ARGUMENT', `dataset ${ds.uri} is closed`, { uri: ds.uri, hint: 'open it again' });
  }
  if (core.explicit !== undefined) {
    throw new StrataError('INVALID_ARGUMENT', `dataset ${ds.uri} already has an open transaction`, {
      uri: ds.uri,
      hint: 'commit or dispose it first',
    });
  }
  if (core.hasPendingChanges) {
    throw new StrataError('INVALID_ARGUMENT', `dataset ${ds.uri} has uncommitted changes`, {
      uri: ds.uri,
      hint: 'commit() or rollback() them before starting a transaction',
    });
  }
  const tx = new Transaction(ds, core);
  core.explicit = tx;
  return tx;
}
