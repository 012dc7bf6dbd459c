import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
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
        this.units.push({ start, rows: ref.rows - ref.deleted, ref });
        start += ref.rows - ref.deleted;
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

  /** Live row ids of a fragment in position order (deletions not applied yet: every row is live). */
  async rowIdsOf(slot: FragmentSlot, signal?: AbortSignal): Promise<number[]> {
    const { ref } = slot;
    if (ref.rowIdStart !== null) return Array.from({ length: ref.rows }, (_, i) => ref.rowIdStart! + i);
    const file = await this.fragment(ref, signal);
    const out: number[] = [];
    for (const [start, count] of file.rowIds ?? []) for (let i = 0; i < count; i++) out.push(start + i);
    if (out.length !== ref.rows) {
      throw new StrataError('CORRUPT', `fragment ${ref.key} lists ${out.length} row ids for ${ref.rows} rows`, {
        key: ref.key,
        uri: this.storage.uri,
        hint: 'open an earlier version',
      });
    }
    return out;
  }

  private async *pageRange(u: Unit, from: number, to: number, signal?: AbortSignal): AsyncGenerator<FragmentSlot> {
    for (const s of await this.pageSlots(u, signal)) if (s.start + s.ref.rows > from && s.start < to) yield s;
  }

  /** Every fragment ref of the version (reads every page). */
  async allFragments(signal?: AbortSignal): Promise<FragmentSlot[]> {
    const out: FragmentSlot[] = [];
    for await (const s of this.slots(0, Number.MAX_SAFE_INTEGER, signal)) out.push(s);
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

  private pageSlots(u: Unit, signal?: AbortSignal): Promise<FragmentSlot[]> {
    const key = u.page!.key;
    let p = this.pages.get(key);
    if (!p) {
      p = readPage(this.storage, key, signal).then(
        (page) => {
          let start = u.start;
          return page.fragments.map((ref) => {
            const s = { ref, start };
            start += ref.rows - ref.deleted;
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
