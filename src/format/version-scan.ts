import { type Sample, type DecodedChunk, sampleAt } from './chunk.js';
import type { ColumnReader, SampleRun } from './column-reader.js';
import type { DeletionVector } from './deletion.js';
import type { Segment } from './fragment.js';
import { type FragmentSlot, type VersionReader, live } from './version-reader.js';

/** Longest run of nulls yielded at once for rows no segment covers. */
const NULL_RUN = 65536;
/** Null pieces queued ahead of the next chunk read at most (rows no segment covers, across fragments). */
const MAX_QUEUED_PIECES = 64;

/** `count` physical rows of one fragment from row `p`: samples `from`.. of a chunk, or nulls (no `load`). */
interface Piece {
  readonly slot: FragmentSlot;
  readonly dv: DeletionVector | undefined;
  readonly p: number;
  readonly count: number;
  readonly from: number;
  readonly load?: () => Promise<DecodedChunk>;
}

interface Queued {
  readonly piece?: Piece;
  readonly chunk?: Promise<DecodedChunk>;
  /** A failure planning later pieces (a fragment or deletion file), thrown when reached in order. */
  readonly error?: unknown;
}

/** How a scan builds its runs: from rows of a decoded chunk, as nulls, and without deleted rows. */
export interface RunBuilder<T> {
  /** Rows [from, from + count) of a decoded chunk. */
  chunk(chunk: DecodedChunk, from: number, count: number): T;
  /** `count` rows no segment covers. */
  nulls(count: number): T;
  /** The rows of `run` in the ranges `[s, e)` (ascending), concatenated. */
  keep(run: T, ranges: ReadonlyArray<readonly [number, number]>): T;
}

/** Runs of samples (`scanColumn`'s builder). */
const SAMPLES: RunBuilder<(Sample | null)[]> = {
  chunk(chunk, from, count) {
    const samples = new Array<Sample | null>(count);
    for (let j = 0; j < count; j++) samples[j] = sampleAt(chunk, from + j);
    return samples;
  },
  nulls: (count) => new Array<null>(count).fill(null),
  keep: (run, ranges) => ranges.flatMap(([s, e]) => run.slice(s, e)),
};

/**
 * Samples of one column at positions [start, stop) of `version` as runs (deleted rows dropped),
 * with up to `prefetchChunks` chunk reads ahead of the one consumed, across segment and fragment
 * boundaries (bounded memory: at most prefetch+1 chunks held).
 */
export async function* scanColumn(
  version: VersionReader,
  columnId: string,
  segmentReader: (slot: FragmentSlot, seg: Segment) => ColumnReader,
  start: number,
  stop: number,
  options: { signal?: AbortSignal; prefetchChunks?: number },
): AsyncGenerator<SampleRun> {
  for await (const r of scanColumnRuns(version, columnId, segmentReader, start, stop, options, SAMPLES)) {
    yield { start: r.start, samples: r.run };
  }
}

/**
 * `scanColumn` with runs built by `build` (e.g. whole decoded columns of a chunk instead of one
 * sample object per row); `rows` is the run's length.
 */
export async function* scanColumnRuns<T>(
  version: VersionReader,
  columnId: string,
  segmentReader: (slot: FragmentSlot, seg: Segment) => ColumnReader,
  start: number,
  stop: number,
  options: { signal?: AbortSignal; prefetchChunks?: number },
  build: RunBuilder<T>,
): AsyncGenerator<{ start: number; rows: number; run: T }> {
  const prefetch = Math.max(0, options.prefetchChunks ?? 2);
  const pieces = plan(version, columnId, segmentReader, start, stop, options.signal);
  const queue: Queued[] = [];
  let loading = 0;
  let done = false;
  const fill = async () => {
    while (!done && loading <= prefetch && queue.length <= prefetch + MAX_QUEUED_PIECES) {
      let next: IteratorResult<Piece>;
      try {
        next = await pieces.next();
      } catch (error) {
        queue.push({ error });
        done = true;
        return;
      }
      if (next.done) {
        done = true;
        return;
      }
      const chunk = next.value.load?.();
      if (chunk) loading++;
      queue.push({ piece: next.value, chunk });
    }
  };
  await fill();
  try {
    while (queue.length > 0) {
      const q = queue.shift()!;
      if (!q.piece) throw q.error;
      const { slot, dv, p, count, from } = q.piece;
      if (q.chunk) {
        const chunk = await q.chunk;
        loading--;
        await fill();
        const r = emit(slot, dv, p, count, build.chunk(chunk, from, count), build);
        if (r) yield r;
      } else {
        await fill();
        for (let s = 0; s < count; s += NULL_RUN) {
          const n = Math.min(NULL_RUN, count - s);
          const r = emit(slot, dv, p + s, n, build.nulls(n), build);
          if (r) yield r;
        }
      }
    }
  } finally {
    await pieces.return(undefined);
  }
}

/** Physical rows p.. (`count` of them) of a fragment as a position-contiguous run without the deleted ones. */
function emit<T>(
  slot: FragmentSlot,
  dv: DeletionVector | undefined,
  p: number,
  count: number,
  run: T,
  build: RunBuilder<T>,
): { start: number; rows: number; run: T } | undefined {
  if (!dv) return { start: slot.start + p, rows: count, run };
  const ranges = keptRanges(dv, p, count);
  if (ranges === undefined) return { start: slot.start + dv.liveBefore(p), rows: count, run };
  const rows = ranges.reduce((n, [s, e]) => n + e - s, 0);
  return rows ? { start: slot.start + dv.liveBefore(p), rows, run: build.keep(run, ranges) } : undefined;
}

/** The pieces covering positions [start, stop) in order: one per chunk touched, nulls in the gaps. */
async function* plan(
  version: VersionReader,
  columnId: string,
  segmentReader: (slot: FragmentSlot, seg: Segment) => ColumnReader,
  start: number,
  stop: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Piece> {
  const slots = version.slots(start, stop, signal);
  let next = await slots.next();
  let file = next.done ? undefined : version.fragment(next.value.ref, signal);
  while (!next.done) {
    const slot = next.value;
    const current = await file!;
    next = await slots.next();
    file = next.done ? undefined : version.fragment(next.value.ref, signal);
    file?.catch(() => undefined); // surfaced when awaited in order
    if (!next.done && next.value.ref.deletion) version.deletions(next.value.ref, signal).catch(() => undefined); // prefetch; surfaced when awaited
    const liveFrom = Math.max(start, slot.start) - slot.start;
    const liveTo = Math.min(stop, slot.start + live(slot.ref)) - slot.start;
    if (liveFrom >= liveTo) continue;
    const dv = slot.ref.deletion ? await version.deletions(slot.ref, signal) : undefined;
    const from = dv ? dv.physical(liveFrom) : liveFrom;
    const to = dv ? (liveTo === live(slot.ref) ? slot.ref.rows : dv.physical(liveTo)) : liveTo;
    let at = from;
    for (const seg of current.columns[columnId] ?? []) {
      const s = Math.max(from, seg.offset);
      const e = Math.min(to, seg.offset + seg.rows);
      if (s >= e) continue;
      if (s > at) yield { slot, dv, p: at, count: s - at, from: 0 };
      const reader = segmentReader(slot, seg);
      const a = s - seg.offset;
      const b = e - seg.offset;
      for (let k = reader.locate(a), last = reader.locate(b - 1); k <= last; k++) {
        const base = reader.chunkStart(k);
        const lo = Math.max(a, base);
        const hi = Math.min(b, reader.chunkStart(k + 1));
        const chunk = k;
        yield {
          slot,
          dv,
          p: seg.offset + lo,
          count: hi - lo,
          from: lo - base,
          load: () => reader.loadChunk(chunk, signal),
        };
      }
      at = e;
    }
    if (to > at) yield { slot, dv, p: at, count: to - at, from: 0 };
  }
}

/** The ranges [s, e) of physical rows p..p+count (relative to p) that are not deleted; undefined: all of them. */
function keptRanges(dv: DeletionVector, p: number, count: number): [number, number][] | undefined {
  let j = dv.deletedBefore(p);
  const end = p + count;
  if (j >= dv.size || dv.offsets[j] >= end) return undefined;
  const out: [number, number][] = [];
  let from = 0;
  for (; j < dv.size && dv.offsets[j] < end; j++) {
    const d = dv.offsets[j] - p;
    if (d > from) out.push([from, d]);
    from = d + 1;
  }
  if (count > from) out.push([from, count]);
  return out;
}
