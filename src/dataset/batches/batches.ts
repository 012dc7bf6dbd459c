import { setMaxListeners } from 'node:events';
import { StrataError, throwIfAborted } from '../../errors.js';
import { type DecodedChunk, sampleAt } from '../../format/chunk.js';
import { type ChunkIndex, VersionColumnReader } from '../../format/version-column-reader.js';
import { CachedStorage } from '../../storage/cache.js';
import { decodeImage } from '../../media/image.js';
import type { ImageCell } from '../cells.js';
import type { DatasetCore } from '../core.js';
import { Limiter } from './limiter.js';
import { type BatchesOptions, type ResolvedOptions, checkImageSpec, resolveOptions } from './options.js';
import { shardRange, visitOrder } from './order.js';
import { allocate, place, tensorShape } from './pixels.js';

/**
 * One batch. `indices` are row positions in the view the batches came from (`ds.row(i)` works with
 * them). Decoded image columns are one typed array for the whole batch (shape in `shapes[column]`);
 * other columns are arrays of values (media not decoded: lazy cells).
 */
export interface Batch {
  readonly indices: Uint32Array;
  /** Shapes of the tensor columns, e.g. `{ image: [32, 224, 224, 3] }`. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly [column: string]: unknown;
}

const RESERVED = new Set(['indices', 'shapes']);

interface DecodePlan {
  readonly column: string;
  readonly height: number;
  readonly width: number;
  readonly fit: 'cover' | 'contain' | 'fill';
  readonly channels: 1 | 3;
  /** Bytes of physical row r. */
  readonly read: (row: number, signal: AbortSignal) => Promise<Uint8Array>;
}

/**
 * Chunks of `reader` worth reading whole, with how many of their rows the pass visits: in an
 * unshuffled pass, chunks of which at least a quarter of the samples are visited (one read per chunk
 * instead of one per sample). Shuffled passes read samples one by one (ranged reads).
 */
function wholeChunks(
  index: ChunkIndex,
  rows: Uint32Array,
  visited: Uint32Array,
  shuffled: boolean,
): Map<number, number> {
  const counts = new Map<number, number>();
  if (shuffled || index.chunkCount === 0) return counts;
  for (const p of visited) {
    const k = index.locate(rows[p]);
    if (k >= 0) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  for (const [k, n] of counts) if (n * 4 < index.chunkSamples(k)) counts.delete(k);
  return counts;
}

/**
 * Reads samples of one column, whole chunks where `wholeChunks` says so: a chunk is fetched once,
 * shared by its rows, and dropped when its last visited row has been read (so memory holds only the
 * chunks rows in flight need).
 */
function sampleReader(
  reader: VersionColumnReader,
  index: ChunkIndex | undefined,
  remaining: Map<number, number>,
): (row: number, signal: AbortSignal) => Promise<Uint8Array | undefined> {
  const pinned = new Map<number, Promise<DecodedChunk>>();
  return async (row, signal) => {
    const k = index && row < reader.length ? index.locate(row) : -1;
    const left = remaining.get(k);
    if (left === undefined) return (await reader.sample(row, signal))?.bytes;
    let p = pinned.get(k);
    if (!p) {
      p = index!.chunk(k, signal);
      pinned.set(k, p);
    }
    if (left <= 1) {
      remaining.delete(k);
      pinned.delete(k);
    } else remaining.set(k, left - 1);
    return sampleAt(await p, index!.offsetIn(k, row))?.bytes;
  };
}

async function decodePlans(
  core: DatasetCore,
  columns: readonly string[],
  decode: BatchesOptions['decode'] = {},
  visit?: { rows: Uint32Array; order: Uint32Array; shuffled: boolean },
): Promise<Map<string, DecodePlan>> {
  const plans = new Map<string, DecodePlan>();
  for (const key of Object.keys(decode)) {
    if (!columns.includes(key) && key !== 'image') {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `batches: decode names ${key}, which is not among the returned columns`,
        {
          column: key,
          hint: `columns are: ${columns.join(', ')}`,
        },
      );
    }
  }
  for (const column of columns) {
    const c = core.columnManifest(column);
    const isImage = c.htype === 'image' || (c.htype === 'link' && (c.meta.target ?? 'image') === 'image');
    const spec = decode[column] ?? (isImage ? decode.image : undefined);
    if (!spec) continue;
    if (!isImage) {
      throw new StrataError(
        'UNSUPPORTED',
        `batches: column ${column} has htype ${c.htype}; only image columns are decoded`,
        { column },
      );
    }
    const s = checkImageSpec(column, spec);
    // A scan reads every sample once: it goes around the LRU cache (scan-resistant), so an epoch
    // neither evicts what random reads cached nor holds cacheBytes of images.
    const store = core.storage instanceof CachedStorage ? core.storage.inner : core.storage;
    const reader = c.htype === 'image' ? new VersionColumnReader(core.version, c, store) : undefined;
    const index = reader && visit && !visit.shuffled ? await reader.index() : undefined;
    const read = reader
      ? sampleReader(
          reader,
          index,
          index && visit ? wholeChunks(index, visit.rows, visit.order, visit.shuffled) : new Map<number, number>(),
        )
      : async (row: number, signal: AbortSignal) => {
          const [cell] = await core.readCells(column, [row], signal);
          return (cell as ImageCell | null)?.bytes({ signal });
        };
    plans.set(column, {
      column,
      ...s,
      read: async (row, signal) => {
        const bytes = await read(row, signal);
        if (!bytes || bytes.byteLength === 0) {
          throw new StrataError(
            'INVALID_ARGUMENT',
            `batches: row ${row} of column ${column} is empty and cannot be decoded`,
            {
              column,
              row,
              hint: 'filter the nulls out first, e.g. ds.filter(r => r.' + column + ' !== null)',
            },
          );
        }
        return bytes;
      },
    });
  }
  return plans;
}

/**
 * Model-ready batches over `rows` (physical row numbers of a view). Reads and image decodes run in
 * parallel (`readConcurrency`, `decodeConcurrency`) up to `prefetchBatches` ahead of the consumer,
 * so memory is bounded by about (prefetchBatches + 1) batches (plus any the consumer keeps).
 */
export async function* batches(
  core: DatasetCore,
  rows: Uint32Array,
  defaultColumns: readonly string[],
  options: BatchesOptions = {},
): AsyncGenerator<Batch> {
  const o = resolveOptions(options);
  const columns = [...(options.columns ?? defaultColumns)];
  for (const c of columns) {
    core.columnManifest(c);
    if (RESERVED.has(c))
      throw new StrataError('INVALID_ARGUMENT', `batches: column name ${c} clashes with the batch's own field`, {
        column: c,
        hint: 'rename or drop it',
      });
  }
  const order = await planOrder(core, rows, columns, o);
  const nBatches = o.dropLast ? Math.floor(order.length / o.batchSize) : Math.ceil(order.length / o.batchSize);
  const visited = order.subarray(0, Math.min(order.length, nBatches * o.batchSize));
  const plans = await decodePlans(core, columns, options.decode, { rows, order: visited, shuffled: o.shuffle });

  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per read in flight
  const external = options.signal;
  throwIfAborted(external, 'batches');
  const onAbort = () => stop.abort(new StrataError('ABORTED', 'batches was aborted', { cause: external?.reason }));
  external?.addEventListener('abort', onAbort, { once: true });
  // A slot covers read + decode of one image, so compressed bytes held are bounded by the slots.
  const reads = new Limiter(Math.max(o.readConcurrency, o.decodeConcurrency));
  const decodes = new Limiter(o.decodeConcurrency);
  stop.signal.addEventListener(
    'abort',
    () => {
      reads.close(stopReason(stop.signal));
      decodes.close(stopReason(stop.signal));
    },
    { once: true },
  );

  const build = (b: number): Promise<Batch> => {
    const positions = order.subarray(b * o.batchSize, Math.min(order.length, (b + 1) * o.batchSize));
    const p = buildBatch(core, rows, positions, columns, plans, o, reads, decodes, stop.signal);
    p.catch(() => undefined); // surfaced when awaited, in order
    return p;
  };

  const inflight: Promise<Batch>[] = [];
  let next = 0;
  try {
    while (next < nBatches && inflight.length <= o.prefetchBatches) inflight.push(build(next++));
    for (let b = 0; b < nBatches; b++) {
      const batch = await orAbort(inflight.shift()!, stop.signal);
      yield batch;
      if (stop.signal.aborted) throw stopReason(stop.signal);
      // Started only once the consumer asks for more: while it works on a batch, at most
      // prefetchBatches others are being built (so prefetchBatches + 1 tensors alive).
      if (next < nBatches) inflight.push(build(next++));
    }
  } finally {
    external?.removeEventListener('abort', onAbort);
    if (!stop.signal.aborted) stop.abort(new StrataError('ABORTED', 'batches stopped by the consumer'));
    inflight.length = 0;
  }
}

/**
 * `p`, or the abort reason as soon as `signal` fires. (Not Promise.race against one long-lived
 * promise: every race would leave a reaction on it holding its result — a batch — forever.)
 */
function orAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(stopReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}

/** Why `stop` fired: `batches` only ever aborts it with a StrataError. */
function stopReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new StrataError('ABORTED', 'batches was aborted', { cause: reason });
}

async function planOrder(
  core: DatasetCore,
  rows: Uint32Array,
  columns: readonly string[],
  o: ResolvedOptions,
): Promise<Uint32Array> {
  const [start, end] = shardRange(rows.length, o.shard, o.shards);
  if (!o.shuffle) return visitOrder(start, end, () => 0, undefined);
  // Blocks follow the chunks of the widest column returned (the media column when there is one).
  const bytes = new Map<string, number>();
  for (const c of columns) bytes.set(c, (await core.reader(c).stats()).bytes);
  const widest = [...columns].sort((a, b) => bytes.get(b)! - bytes.get(a)!)[0];
  const index = widest ? await core.reader(widest).index() : undefined;
  const blockOf = (p: number) => (index ? index.locate(rows[p]) : -1);
  return visitOrder(start, end, blockOf, { seed: o.seed, bufferRows: o.shuffleBufferRows });
}

async function buildBatch(
  core: DatasetCore,
  rows: Uint32Array,
  positions: Uint32Array,
  columns: readonly string[],
  plans: Map<string, DecodePlan>,
  o: ResolvedOptions,
  reads: Limiter,
  decodes: Limiter,
  signal: AbortSignal,
): Promise<Batch> {
  const n = positions.length;
  const physical = Uint32Array.from(positions, (p) => rows[p]);
  const out: Record<string, unknown> = { indices: positions.slice() };
  const shapes: Record<string, number[]> = {};
  const work: Promise<void>[] = [];
  for (const column of columns) {
    const plan = plans.get(column);
    if (!plan) {
      work.push(
        (core.isMedia(column)
          ? core.readCells(column, physical, signal)
          : core.columnValues(column, signal).then((all) => Array.from(physical, (r) => all[r] ?? null))
        ).then((values) => void (out[column] = values)),
      );
      continue;
    }
    const { height: h, width: w, channels: c } = plan;
    const tensor = allocate(o.dtype, n, h, w, c);
    out[column] = tensor;
    shapes[column] = tensorShape(o.layout, n, h, w, c);
    for (let i = 0; i < n; i++) {
      const row = physical[i];
      work.push(
        reads.run(async () => {
          const bytes = await plan.read(row, signal);
          await decodes.run(async () => {
            throwIfAborted(signal, 'batches');
            const img = await decodeImage(
              bytes,
              { resize: { width: w, height: h, fit: plan.fit }, channels: c },
              { column, row },
            );
            place(tensor, i, img.data, h * w, c, o.layout, o.mean, o.std);
          });
        }),
      );
    }
  }
  await Promise.all(work);
  out.shapes = shapes;
  return out as Batch;
}
