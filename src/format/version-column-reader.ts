import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { ChunkHeader, DecodedChunk, Sample } from './chunk.js';
import type { ChunkRef } from './manifest.js';
import { ColumnReader, type SampleRun } from './column-reader.js';
import type { FragmentFile, Segment } from './fragment.js';
import type { ColumnSchema } from './manifest-v2.js';
import type { FragmentSlot, VersionReader } from './version-reader.js';

/** Longest run of nulls yielded at once for rows no segment covers. */
const NULL_RUN = 65536;

/** Where one row of a column is: its fragment, and the segment covering it (none: not computed). */
interface Located {
  readonly slot: FragmentSlot;
  readonly file: FragmentFile;
  readonly segment: Segment | undefined;
  /** Row within the fragment. */
  readonly local: number;
}

/** Every chunk of a column over the whole version, with global positions (see `VersionColumnReader.index`). */
export interface ChunkIndex {
  readonly chunkCount: number;
  /** Chunk holding row i, or -1 when no segment covers it. */
  locate(i: number): number;
  chunkStart(k: number): number;
  chunkSamples(k: number): number;
  chunk(k: number, signal?: AbortSignal): Promise<DecodedChunk>;
  header(k: number, signal?: AbortSignal): Promise<ChunkHeader>;
  ref(k: number): ChunkRef;
}

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
    const at = await this.locateRow(i, signal);
    if (!at?.segment) return null;
    return this.segmentReader(at.slot, at.segment).sample(at.local - at.segment.offset, signal);
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

  /** Samples [start, end) in order as runs (one per chunk; uncovered rows as runs of nulls). */
  async *scan(
    start = 0,
    end = this.length,
    options: { signal?: AbortSignal; prefetchChunks?: number } = {},
  ): AsyncGenerator<SampleRun> {
    const stop = Math.min(end, this.length);
    if (start >= stop) return;
    const slots = this.version.slots(start, stop, options.signal);
    let next = await slots.next();
    let file = next.done ? undefined : this.version.fragment(next.value.ref, options.signal);
    while (!next.done) {
      const slot = next.value;
      const current = await file!;
      next = await slots.next();
      file = next.done ? undefined : this.version.fragment(next.value.ref, options.signal);
      file?.catch(() => undefined); // surfaced when awaited in order
      const from = Math.max(start, slot.start) - slot.start;
      const to = Math.min(stop, slot.start + slot.ref.rows) - slot.start;
      let at = from;
      for (const seg of current.columns[this.column.id] ?? []) {
        const s = Math.max(from, seg.offset);
        const e = Math.min(to, seg.offset + seg.rows);
        if (s >= e) continue;
        yield* nulls(slot.start + at, s - at);
        const reader = this.segmentReader(slot, seg);
        for await (const run of reader.scan(s - seg.offset, e - seg.offset, options)) {
          yield { start: slot.start + seg.offset + run.start, samples: run.samples };
        }
        at = e;
      }
      yield* nulls(slot.start + at, to - at);
    }
  }

  /** Position of the first row no segment covers (= length when every row has a stored value). */
  async storedLength(signal?: AbortSignal): Promise<number> {
    for await (const slot of this.version.slots(0, this.length, signal)) {
      const f = await this.version.fragment(slot.ref, signal);
      let end = 0;
      for (const s of f.columns[this.column.id] ?? []) {
        if (s.offset !== end) break;
        end += s.rows;
      }
      if (end < slot.ref.rows) return slot.start + end;
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
    const owners: { reader: ColumnReader; k: number }[] = [];
    for await (const slot of this.version.slots(0, this.length, signal)) {
      for (const seg of (await this.version.fragment(slot.ref, signal)).columns[this.column.id] ?? []) {
        const reader = this.segmentReader(slot, seg);
        let s = slot.start + seg.offset;
        seg.chunks.forEach((c, k) => {
          starts.push(s);
          counts.push(c.samples);
          owners.push({ reader, k });
          s += c.samples;
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
      chunkSamples: (k) => counts[k],
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
    const slot = await this.version.slotAt(i, signal);
    const file = await this.version.fragment(slot.ref, signal);
    const local = i - slot.start;
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

function* nulls(start: number, count: number): Generator<SampleRun> {
  for (let s = 0; s < count; s += NULL_RUN) {
    yield { start: start + s, samples: new Array<null>(Math.min(NULL_RUN, count - s)).fill(null) };
  }
}
