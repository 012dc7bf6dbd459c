import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { DeletionVector, readDeletion } from './deletion.js';
import { type FragmentFile, readFragment } from './fragment.js';
import {
  type AnyManifest,
  type ColumnSchema,
  type FragmentRef,
  type IndexRef,
  type PageRef,
  isV2,
  schemaOf,
} from './manifest-v2.js';
import { readIndex, readPage } from './pages.js';

/** A fragment and the position of its first row in the version. */
export interface FragmentSlot {
  readonly ref: FragmentRef;
  readonly start: number;
}

export interface VersionReaderOptions {
  /** Parsed fragment files kept in memory (LRU). Default 4096. */
  readonly fragmentCacheEntries?: number;
  /** Parsed pages kept in memory (LRU). Default 256. */
  readonly pageCacheEntries?: number;
}

/** A live row's fragment and its physical offset there. */
export interface RowLocation {
  readonly slot: FragmentSlot;
  /** Physical row offset within the fragment. */
  readonly offset: number;
}

const NO_DELETIONS = new DeletionVector(new Uint32Array(0));

/** An index page, a page or a tail fragment, with its first row position. */
interface Unit {
  readonly start: number;
  readonly rows: number;
  readonly index?: IndexRef;
  readonly page?: PageRef;
  readonly ref?: FragmentRef;
}

/**
 * One opened version: length, schema and metadata from the manifest (synchronously); pages and
 * fragment files are read on demand and cached. A v1 manifest reads as one fragment holding every
 * column's chunk list.
 */
export class VersionReader {
  readonly schema: readonly ColumnSchema[];
  private readonly units: Unit[] = [];
  private readonly pages = new Map<string, Promise<FragmentSlot[]>>();
  private readonly indexes = new Map<string, Promise<Unit[]>>();
  private readonly files = new Map<string, Promise<FragmentFile>>();
  private readonly deletionFiles = new Map<string, Promise<DeletionVector>>();
  private rowIdIndex: Promise<RowIdRun[]> | undefined;
  private readonly v1File: FragmentFile | undefined;
  private readonly maxFiles: number;
  private readonly maxPages: number;

  constructor(
    readonly storage: Storage,
    readonly manifest: AnyManifest,
    options: VersionReaderOptions = {},
  ) {
    this.schema = schemaOf(manifest);
    this.maxFiles = options.fragmentCacheEntries ?? 4096;
    this.maxPages = options.pageCacheEntries ?? 256;
    let start = 0;
    if (isV2(manifest)) {
      for (const index of manifest.fragments.indexes ?? []) {
        this.units.push({ start, rows: index.liveRows, index });
        start += index.liveRows;
      }
      for (const page of manifest.fragments.pages) {
        this.units.push({ start, rows: page.liveRows, page });
        start += page.liveRows;
      }
      for (const ref of manifest.fragments.tail) {
        this.units.push({ start, rows: live(ref), ref });
        start += live(ref);
      }
    } else {
      const columns: Record<string, FragmentFile['columns'][string]> = {};
      for (const c of manifest.columns)
        columns[c.id] = c.length > 0 ? [{ offset: 0, rows: c.length, chunks: c.chunks }] : [];
      this.v1File = { rows: manifest.length, rowIds: null, columns };
      const ref = { id: 0, key: '', rows: manifest.length, deleted: 0, deletion: null, rowIdStart: 0 };
      if (manifest.length > 0) this.units.push({ start: 0, rows: manifest.length, ref });
    }
  }

  get version(): number {
    return this.manifest.version;
  }

  get length(): number {
    return this.manifest.length;
  }

  get meta(): Readonly<Record<string, unknown>> {
    return this.manifest.meta;
  }

  /** The v1 view's synthetic fragment file (undefined for a v2 manifest). */
  get v1Fragment(): FragmentFile | undefined {
    return this.v1File;
  }

  column(name: string): ColumnSchema {
    const c = this.schema.find((x) => x.name === name);
    if (!c) {
      throw new StrataError(
        'NOT_FOUND',
        `column ${name} does not exist in ${this.storage.uri} (version ${this.version})`,
        {
          column: name,
          uri: this.storage.uri,
          hint: `columns are: ${this.schema.map((x) => x.name).join(', ') || '(none)'}`,
        },
      );
    }
    return c;
  }

  /** The fragment holding row position `pos` (0 ≤ pos < length). */
  async slotAt(pos: number, signal?: AbortSignal): Promise<FragmentSlot> {
    let u = this.units[search(this.units, pos, (x) => x.start)];
    if (u.index) {
      const pages = await this.indexUnits(u, signal);
      u = pages[search(pages, pos, (x) => x.start)];
    }
    if (!u.page) return { ref: u.ref!, start: u.start };
    const slots = await this.pageSlots(u, signal);
    return slots[search(slots, pos, (s) => s.start)];
  }

  /** Fragments overlapping positions [from, to), in order. */
  async *slots(from: number, to: number, signal?: AbortSignal): AsyncGenerator<FragmentSlot> {
    if (from >= to || this.units.length === 0) return;
    for (let i = search(this.units, from, (x) => x.start); i < this.units.length; i++) {
      const u = this.units[i];
      if (u.start >= to) return;
      if (u.index) {
        for (const p of await this.indexUnits(u, signal))
          if (p.start + p.rows > from && p.start < to) yield* this.pageRange(p, from, to, signal);
      } else if (!u.page) yield { ref: u.ref!, start: u.start };
      else yield* this.pageRange(u, from, to, signal);
    }
  }

  private async *pageRange(u: Unit, from: number, to: number, signal?: AbortSignal): AsyncGenerator<FragmentSlot> {
    for (const s of await this.pageSlots(u, signal)) if (s.start + live(s.ref) > from && s.start < to) yield s;
  }

  /** Every fragment ref of the version, fully deleted ones included (reads every page). */
  async allFragments(signal?: AbortSignal): Promise<FragmentSlot[]> {
    const out: FragmentSlot[] = [];
    for (const u of this.units) {
      if (u.index) for (const p of await this.indexUnits(u, signal)) out.push(...(await this.pageSlots(p, signal)));
      else if (!u.page) out.push({ ref: u.ref!, start: u.start });
      else out.push(...(await this.pageSlots(u, signal)));
    }
    return out;
  }

  /** A fragment's file, read once and cached. */
  fragment(ref: FragmentRef, signal?: AbortSignal): Promise<FragmentFile> {
    if (this.v1File) return Promise.resolve(this.v1File);
    let p = this.files.get(ref.key);
    if (!p) {
      p = readFragment(this.storage, ref.key, signal).catch((err: unknown) => {
        this.files.delete(ref.key);
        throw missing(err, ref.key, this.storage.uri, 'fragment');
      });
      remember(this.files, ref.key, p, this.maxFiles);
    } else {
      this.files.delete(ref.key);
      this.files.set(ref.key, p);
    }
    return p;
  }

  /** An index page's pages as units with their first row positions, read once and cached. */
  private indexUnits(u: Unit, signal?: AbortSignal): Promise<Unit[]> {
    const key = u.index!.key;
    let p = this.indexes.get(key);
    if (!p) {
      p = readIndex(this.storage, key, signal).then(
        (index) => {
          let start = u.start;
          return index.pages.map((page) => {
            const unit = { start, rows: page.liveRows, page };
            start += page.liveRows;
            return unit;
          });
        },
        (err: unknown) => {
          this.indexes.delete(key);
          throw missing(err, key, this.storage.uri, 'index page');
        },
      );
      remember(this.indexes, key, p, this.maxPages);
    }
    return p;
  }

  /** The deleted rows of a fragment (an empty vector when it has none), read once and cached. */
  deletions(ref: FragmentRef, signal?: AbortSignal): Promise<DeletionVector> {
    const key = ref.deletion;
    if (!key) return Promise.resolve(NO_DELETIONS);
    let p = this.deletionFiles.get(key);
    if (!p) {
      p = readDeletion(this.storage, key, { rows: ref.rows, deleted: ref.deleted, signal }).catch((err: unknown) => {
        this.deletionFiles.delete(key);
        throw missing(err, key, this.storage.uri, 'deletion file');
      });
      remember(this.deletionFiles, key, p, this.maxFiles);
    }
    return p;
  }

  /** The fragment and physical offset of the live row at position `pos` (0 ≤ pos < length). */
  async locate(pos: number, signal?: AbortSignal): Promise<RowLocation> {
    const slot = await this.slotAt(pos, signal);
    const local = pos - slot.start;
    if (!slot.ref.deletion) return { slot, offset: local };
    return { slot, offset: (await this.deletions(slot.ref, signal)).physical(local) };
  }

  /**
   * Row ids of the live rows of a fragment, in position order. A row keeps its id for life: across
   * deletes of other rows, appends, updates (the new copy carries the old id) and compaction.
   */
  async rowIdsOf(slot: FragmentSlot, signal?: AbortSignal): Promise<number[]> {
    const { ref } = slot;
    const deleted = await this.deletions(ref, signal);
    const out: number[] = [];
    if (ref.rowIdStart !== null) {
      for (let p = 0, j = 0; p < ref.rows; p++) {
        if (j < deleted.size && deleted.offsets[j] === p) j++;
        else out.push(ref.rowIdStart + p);
      }
      return out;
    }
    const file = await this.fragment(ref, signal);
    let p = 0;
    let j = 0;
    for (const [start, count] of file.rowIds ?? []) {
      for (let k = 0; k < count; k++, p++) {
        if (j < deleted.size && deleted.offsets[j] === p) j++;
        else out.push(start + k);
      }
    }
    return out;
  }

  /** Position of the live row with id `rowId` in this version, or undefined when it has none. */
  async positionOf(rowId: number, signal?: AbortSignal): Promise<number | undefined> {
    this.rowIdIndex ??= this.buildRowIdIndex(signal);
    this.rowIdIndex.catch(() => (this.rowIdIndex = undefined));
    const runs = await this.rowIdIndex;
    let lo = 0;
    let hi = runs.length - 1;
    if (hi < 0 || rowId < runs[0].id) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runs[mid].id <= rowId) lo = mid;
      else hi = mid - 1;
    }
    const r = runs[lo];
    return rowId < r.id + r.count ? r.position + rowId - r.id : undefined;
  }

  /**
   * Runs of consecutive live row ids at consecutive positions, sorted by id (disjoint: a live id
   * is in one place). Reads the deletion files, and the fragment files that list their ids.
   */
  private async buildRowIdIndex(signal?: AbortSignal): Promise<RowIdRun[]> {
    const runs: RowIdRun[] = [];
    for (const slot of await this.allFragments(signal)) {
      const { ref } = slot;
      const ids =
        ref.rowIdStart !== null ? [[ref.rowIdStart, ref.rows] as const] : (await this.fragment(ref, signal)).rowIds;
      const dv = await this.deletions(ref, signal);
      let offset = 0;
      let j = 0;
      for (const [id, count] of ids ?? []) {
        // split [offset, offset + count) at the deleted offsets inside it
        let from = offset;
        const end = offset + count;
        for (; j < dv.size && dv.offsets[j] < end; j++) {
          const d = dv.offsets[j];
          if (d > from)
            runs.push({ id: id + from - offset, count: d - from, position: slot.start + dv.liveBefore(from) });
          from = d + 1;
        }
        if (end > from)
          runs.push({ id: id + from - offset, count: end - from, position: slot.start + dv.liveBefore(from) });
        offset = end;
      }
    }
    return runs.sort((a, b) => a.id - b.id);
  }

  private pageSlots(u: Unit, signal?: AbortSignal): Promise<FragmentSlot[]> {
    const key = u.page!.key;
    let p = this.pages.get(key);
    if (!p) {
      p = readPage(this.storage, key, signal).then(
        (page) => {
          let start = u.start;
          return page.fragments.map((ref) => {
            const s = { ref, start };
            start += live(ref);
            return s;
          });
        },
        (err: unknown) => {
          this.pages.delete(key);
          throw missing(err, key, this.storage.uri, 'page');
        },
      );
      remember(this.pages, key, p, this.maxPages);
    }
    return p;
  }
}

/** Live rows of a fragment. */
export function live(ref: FragmentRef): number {
  return ref.rows - ref.deleted;
}

/** Live row ids id..id+count-1 at positions position.. */
interface RowIdRun {
  readonly id: number;
  readonly count: number;
  readonly position: number;
}

/** Index of the last item whose start ≤ pos. */
function search<T>(items: readonly T[], pos: number, start: (x: T) => number): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (start(items[mid]) <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function missing(err: unknown, key: string, uri: string, what: string): unknown {
  if (!isStrataError(err, 'NOT_FOUND')) return err;
  return new StrataError('CORRUPT', `${what} ${key} is missing from ${uri}`, {
    key,
    uri,
    hint: 'the object was deleted (vacuum with too short a retention?); open an earlier version or restore it',
    cause: err,
  });
}

function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
