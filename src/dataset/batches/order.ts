import { StrataError } from '../../errors.js';
import { prng } from '../../random.js';

export { prng };

/** The positions [start, end) of shard `shard` of `shards` over n rows: contiguous, disjoint, complete. */
export function shardRange(n: number, shard: number, shards: number): [number, number] {
  if (!Number.isInteger(shards) || shards < 1 || !Number.isInteger(shard) || shard < 0 || shard >= shards) {
    throw new StrataError('INVALID_ARGUMENT', `batches: shard ${shard} of ${shards} is not valid`, {
      field: 'shard',
      hint: 'use integers with 0 <= shard < shards',
    });
  }
  return [Math.floor((n * shard) / shards), Math.floor((n * (shard + 1)) / shards)];
}

export interface ShuffleOptions {
  readonly seed: number;
  /** Rows held in the shuffle buffer. */
  readonly bufferRows: number;
}

/**
 * The order in which positions [start, end) are visited.
 *
 * Without shuffle: in order. With shuffle, two stages (like Deep Lake / WebDataset loaders):
 *  1. blocks — runs of consecutive positions whose rows sit in the same storage chunk
 *     (`blockOf(position)`) — are visited in a uniformly random order (Fisher-Yates);
 *  2. rows stream through a buffer of `bufferRows`: each incoming row replaces a uniformly chosen
 *     buffered row, which is emitted; the remainder is emitted in random order at the end.
 * So reads stay chunk-local while the output mixes rows from about bufferRows / rowsPerChunk chunks
 * at a time; rows from the same chunk tend to appear within a window of ~bufferRows of each other.
 * It is not a uniform permutation of the whole dataset unless bufferRows >= rows. Every position is
 * emitted exactly once; the order depends only on (seed, rows, chunk layout, bufferRows).
 */
export function visitOrder(
  start: number,
  end: number,
  blockOf: (position: number) => number,
  shuffle: ShuffleOptions | undefined,
): Uint32Array {
  const n = Math.max(0, end - start);
  const out = new Uint32Array(n);
  if (!shuffle) {
    for (let i = 0; i < n; i++) out[i] = start + i;
    return out;
  }
  const rand = prng(shuffle.seed);
  // 1. blocks of consecutive positions in one chunk
  const blockStarts: number[] = [];
  let prev = Number.NaN;
  for (let p = start; p < end; p++) {
    const b = blockOf(p);
    if (b !== prev) blockStarts.push(p);
    prev = b;
  }
  blockStarts.push(end);
  const order = Array.from({ length: blockStarts.length - 1 }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  // 2. shuffle buffer
  const size = Math.max(1, Math.floor(shuffle.bufferRows));
  const buffer: number[] = [];
  let k = 0;
  for (const b of order) {
    for (let p = blockStarts[b]; p < blockStarts[b + 1]; p++) {
      if (buffer.length < size) {
        buffer.push(p);
        continue;
      }
      const j = Math.floor(rand() * size);
      out[k++] = buffer[j];
      buffer[j] = p;
    }
  }
  for (let i = buffer.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [buffer[i], buffer[j]] = [buffer[j], buffer[i]];
  }
  for (const p of buffer) out[k++] = p;
  return out;
}
