import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Action } from './actions.js';
import { readDeletion, writeDeletion } from './deletion.js';
import type { FragmentRef } from './manifest-v2.js';
import type { VersionReader } from './version-reader.js';

/** Rows one transaction deletes from one fragment. */
interface FragmentDeletes {
  readonly ref: FragmentRef;
  /** Physical offset → row id. */
  readonly rows: Map<number, number>;
}

/**
 * The rows a transaction deletes, by fragment. At commit each touched fragment gets a new deletion
 * file (its current deleted rows plus these: files are immutable), recorded as a `delete` action.
 */
export class PendingDeletes {
  private readonly byFragment = new Map<number, FragmentDeletes>();

  constructor(
    private readonly storage: Storage,
    private readonly base: VersionReader,
    private readonly signal?: AbortSignal,
  ) {}

  get size(): number {
    let n = 0;
    for (const f of this.byFragment.values()) n += f.rows.size;
    return n;
  }

  /** Marks the live row at `pos` of the base version deleted (again: no-op); returns its row id. */
  async add(pos: number): Promise<number> {
    if (!Number.isInteger(pos) || pos < 0 || pos >= this.base.length) {
      throw new StrataError('INVALID_ARGUMENT', `row ${pos} is not a row of version ${this.base.version}`, {
        row: pos,
        hint: `rows are 0..${this.base.length - 1}`,
      });
    }
    const { slot, offset } = await this.base.locate(pos, this.signal);
    let f = this.byFragment.get(slot.ref.id);
    if (!f) this.byFragment.set(slot.ref.id, (f = { ref: slot.ref, rows: new Map() }));
    let id = f.rows.get(offset);
    if (id === undefined) {
      id = slot.ref.rowIdStart !== null ? slot.ref.rowIdStart + offset : await this.rowIdAt(slot.ref, offset);
      f.rows.set(offset, id);
    }
    return id;
  }

  /** One `delete` action per touched fragment, each with its new deletion file written. */
  async actions(): Promise<Action[]> {
    const out: Action[] = [];
    for (const f of this.byFragment.values()) {
      const v = (await this.base.deletions(f.ref, this.signal)).union(f.rows.keys());
      out.push({
        type: 'delete',
        fragmentId: f.ref.id,
        baseDeletion: f.ref.deletion,
        deletion: await writeDeletion(this.storage, v, this.signal),
        deleted: v.size,
      });
    }
    return out;
  }

  /** The fragment's deletions changed under this transaction: the union, or CONFLICT naming a row both deleted. */
  async redelete(
    a: Extract<Action, { type: 'delete' }>,
    current: FragmentRef,
  ): Promise<{ deletion: string; deleted: number }> {
    const f = this.byFragment.get(a.fragmentId)!;
    const theirs = current.deletion
      ? await readDeletion(this.storage, current.deletion, { rows: current.rows, deleted: current.deleted })
      : undefined;
    for (const [offset, rowId] of f.rows) {
      if (theirs?.has(offset)) {
        throw new StrataError('CONFLICT', `row ${rowId} was deleted or updated by a concurrent commit`, {
          row: rowId,
          uri: this.storage.uri,
          hint: 'reopen the dataset at its latest version and apply the change again',
        });
      }
    }
    const v = theirs ? theirs.union(f.rows.keys()) : (await this.base.deletions(f.ref)).union(f.rows.keys());
    return { deletion: await writeDeletion(this.storage, v, this.signal), deleted: v.size };
  }

  private async rowIdAt(ref: FragmentRef, offset: number): Promise<number> {
    let p = 0;
    for (const [start, count] of (await this.base.fragment(ref, this.signal)).rowIds ?? []) {
      if (offset < p + count) return start + offset - p;
      p += count;
    }
    throw new StrataError('CORRUPT', `fragment ${ref.key} has no row id for row ${offset}`, { key: ref.key });
  }
}
