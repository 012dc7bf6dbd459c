import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { ChunkHeader, DecodedChunk, Sample } from './chunk.js';
import type { ChunkRef } from './manifest.js';
import { ColumnReader, type SampleRun } from './column-reader.js';
import type { DeletionVector } from './deletion.js';
import type { FragmentFile, Segment } from './fragment.js';
import type { ColumnSchema } from './manifest-v2.js';
import { type FragmentSlot, type VersionReader, live } from './version-reader.js';
import { type RunBuilder, scanColumn, scanColumnRuns } from './version-scan.js';

/** Where one row of a column is: its fragment, and the segment covering it (none: not computed). */
interface Located {
  readonly slot: FragmentSlot;
  readonly file: FragmentFile;
  readonly segment: Segment | undefined;
  /** Physical row within the fragment. */
  readonly local: number;
}

/** Every chunk of a column over the whole version, with global positions (see `VersionColumnReader.index`). */
export interface ChunkIndex {
  readonly chunkCount: number;
  /** Chunk holding row i, or -1 when no segment covers it. */
  locate(i: number): number;
  /** Position of the chunk's first live row. */
  chunkStart(k: number): number;
  /** Live rows of chunk k (positions chunkStart(k) .. + chunkRows(k)). */
  chunkRows(k: number): number;
  /** Sample index inside chunk k of the row at position i (deleted samples of the chunk counted). */
  offsetIn(k: number, i: number): number;
  /** Samples stored in chunk k (deleted rows included). */
  chunkSamples(k: number): number;
  chunk(k: number, signal?: AbortSignal): Promise<DecodedChunk>;
  header(k: number, signal?: AbortSignal): Promise<ChunkHeader>;
  ref(k: number): ChunkRef;
}

/** Positions [start, end) of a version read as rows 0.. of one segment's chunk reader. */
interface Resolved {
  readonly start: number;
  readonly end: number;
  readonly reader: ColumnReader;
}

/** Located segments remembered for random reads at most (then the list starts over). */
const MAX_RESOLVED = 1024;

/** Size of a column over a version (reads every fragment file). */
export interface ColumnStats {
  /** Rows with a stored value or stored null (covered by a segment). */
  readonly storedRows: number;
  readonly chunks: number;
  readonly bytes: number;
}

/**
 * Reads one column across the fragments of a version: positions → (fragment, segment) lazily, then
 * the chunk ColumnReader of that segment. Rows no segment covers read as null.
 */
export class VersionColumnReader {
  private readonly segmentReaders = new Map<string, ColumnReader>();
  /** Segments of fragments without deletions already located, sorted by first position (see `resolvedAt`). */
  private readonly resolved: Resolved[] = [];
  private indexPromise: Promise<ChunkIndex> | undefined;

  /** `chunkStorage` (default: the version's) serves the chunk reads, e.g. around a cache for a scan. */
  constructor(
    readonly version: VersionReader,
    readonly column: ColumnSchema,
    private readonly chunkStorage: Storage = version.storage,
  ) {}

  get length(): number {
    return this.version.length;
  }

  async sample(i: number, signal?: AbortSignal): Promise<Sample | null> {
    const hit = this.resolvedAt(i);
    if (hit) return hit.reader.sample(i - hit.start, signal);
    const at = await this.locateRow(i, signal);
    if (!at?.segment) return null;
    const reader = this.segmentReader(at.slot, at.segment);
    if (!at.slot.ref.deletion) this.remember(at.slot.start + at.segment.offset, at.segment.rows, reader);
    return reader.sample(at.local - at.segment.offset, signal);
  }

  /**
   * The segment holding position i when it was located before (a fragment without deletions, so
   * positions map to its rows one to one): found by a binary search, without awaiting the fragment.
   */
  private resolvedAt(i: number): Resolved | undefined {
    const r = this.resolved;
    let lo = 0;
    let hi = r.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = r[mid];
      if (i < e.start) hi = mid - 1;
      else if (i >= e.end) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  private remember(start: number, rows: number, reader: ColumnReader): void {
    if (this.resolved.length >= MAX_RESOLVED) this.resolved.length = 0;
    let at = this.resolved.length;
    while (at > 0 && this.resolved[at - 1].start > start) at--;
    this.resolved.splice(at, 0, { start, end: start + rows, reader });
  }

  async shape(i: number, signal?: AbortSignal): Promise<number[] | undefined> {
    const at = await this.locateRow(i, signal);
    if (!at?.segment) return undefined;
    return this.segmentReader(at.slot, at.segment).shape(at.local - at.segment.offset, signal);
  }

  async byteSource(
    i: number,
    signal?: AbortSignal,
  ): Promise<{ size: number; read(offset: number, length: number): Promise<Uint8Array> } | undefined> {
    const at = await this.locateRow(i, signal);
    if (!at?.segment) return undefined;
    return this.segmentReader(at.slot, at.segment).byteSource(at.local - at.segment.offset, signal);
  }

  /**
   * Samples at positions [start, end) in order as runs (about one per chunk; uncovered rows as
   * runs of nulls). Deleted rows are dropped from each run, so runs stay position-contiguous.
   * `prefetchChunks` (default 2) chunk reads run ahead, across fragment boundaries.
   */
  async *scan(
    start = 0,
    end = this.length,
    options: { signal?: AbortSignal; prefetchChunks?: number } = {},
  ): AsyncGenerator<SampleRun> {
    const stop = Math.min(end, this.length);
    if (start >= stop) return;
    yield* scanColumn(this.version, this.column.id, (slot, seg) => this.segmentReader(slot, seg), start, stop, options);
  }

  /** `scan` with runs built by `build` from whole decoded chunks (no sample object per row). */
  async *scanRuns<T>(
    start: number,
    end: number,
    options: { signal?: AbortSignal; prefetchChunks?: number },
    build: RunBuilder<T>,
  ): AsyncGenerator<{ start: number; rows: number; run: T }> {
    const stop = Math.min(end, this.length);
    if (start >= stop) return;
    const segment = (slot: FragmentSlot, seg: Segment) => this.segmentReader(slot, seg);
    yield* scanColumnRuns(this.version, this.column.id, segment, start, stop, options, build);
  }

  /** Position of the first live row no segment covers (= length when every live row has a stored value). */
  async storedLength(signal?: AbortSignal): Promise<number> {
    for await (const slot of this.version.slots(0, this.length, signal)) {
      const f = await this.version.fragment(slot.ref, signal);
      let end = 0;
      for (const s of f.columns[this.column.id] ?? []) {
        if (s.offset !== end) break;
        end += s.rows;
      }
      const liveEnd = (await this.version.deletions(slot.ref, signal)).liveBefore(end);
      if (liveEnd < live(slot.ref)) return slot.start + liveEnd;
    }
    return this.length;
  }

  async stats(signal?: AbortSignal): Promise<ColumnStats> {
    let storedRows = 0;
    let chunks = 0;
    let bytes = 0;
    for await (const slot of this.version.slots(0, this.length, signal)) {
      for (const s of (await this.version.fragment(slot.ref, signal)).columns[this.column.id] ?? []) {
        storedRows += s.rows;
        chunks += s.chunks.length;
        for (const c of s.chunks) bytes += c.bytes;
      }
    }
    return { storedRows, chunks, bytes };
  }

  /** Every chunk of the column with global positions (reads every fragment file once). */
  index(signal?: AbortSignal): Promise<ChunkIndex> {
    this.indexPromise ??= this.buildIndex(signal);
    this.indexPromise.catch(() => (this.indexPromise = undefined));
    return this.indexPromise;
  }

  private async buildIndex(signal?: AbortSignal): Promise<ChunkIndex> {
    const starts: number[] = [];
    const counts: number[] = [];
    const owners: { reader: ColumnReader; k: number; slot: FragmentSlot; p: number; dv?: DeletionVector }[] = [];
    for await (const slot of this.version.slots(0, this.length, signal)) {
      const dv = slot.ref.deletion ? await this.version.deletions(slot.ref, signal) : undefined;
      for (const seg of (await this.version.fragment(slot.ref, signal)).columns[this.column.id] ?? []) {
        const reader = this.segmentReader(slot, seg);
        let p = seg.offset;
        seg.chunks.forEach((c, k) => {
          const first = dv ? dv.liveBefore(p) : p;
          const liveCount = (dv ? dv.liveBefore(p + c.samples) : p + c.samples) - first;
          if (liveCount > 0) {
            starts.push(slot.start + first);
            counts.push(liveCount);
            owners.push({ reader, k, slot, p, dv });
          }
          p += c.samples;
        });
      }
    }
    return {
      chunkCount: starts.length,
      locate: (i) => {
        let lo = 0;
        let hi = starts.length - 1;
        if (hi < 0 || i < starts[0]) return -1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (starts[mid] <= i) lo = mid;
          else hi = mid - 1;
        }
        return i < starts[lo] + counts[lo] ? lo : -1;
      },
      chunkStart: (k) => starts[k],
      chunkRows: (k) => counts[k],
      offsetIn: (k, i) => {
        const o = owners[k];
        const local = i - o.slot.start;
        return (o.dv ? o.dv.physical(local) : local) - o.p;
      },
      chunkSamples: (k) => owners[k].reader.column.chunks[owners[k].k].samples,
      chunk: (k, sig) => owners[k].reader.chunk(owners[k].k, sig),
      header: (k, sig) => owners[k].reader.header(owners[k].k, sig),
      ref: (k) => owners[k].reader.column.chunks[owners[k].k],
    };
  }

  private async locateRow(i: number, signal?: AbortSignal): Promise<Located | undefined> {
    if (!Number.isInteger(i) || i < 0) {
      throw new StrataError('INVALID_ARGUMENT', `row ${i} is not a valid index for column ${this.column.name}`, {
        column: this.column.name,
        row: i,
      });
    }
    if (i >= this.length) return undefined;
    const { slot, offset: local } = await this.version.locate(i, signal);
    const file = await this.version.fragment(slot.ref, signal);
    const segment = (file.columns[this.column.id] ?? []).find((s) => s.offset <= local && local < s.offset + s.rows);
    return { slot, file, segment, local };
  }

  private segmentReader(slot: FragmentSlot, seg: Segment): ColumnReader {
    const id = `${slot.ref.key}#${seg.offset}`;
    let r = this.segmentReaders.get(id);
    if (!r) {
      r = new ColumnReader(this.chunkStorage, { ...this.column, length: seg.rows, chunks: seg.chunks });
      this.segmentReaders.set(id, r);
      if (this.segmentReaders.size > 1024) this.segmentReaders.delete(this.segmentReaders.keys().next().value!);
    }
    return r;
  }
}
