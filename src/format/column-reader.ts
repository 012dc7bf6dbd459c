import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import {
  type ChunkHeader,
  type DecodedChunk,
  type Sample,
  isNull,
  sampleAt,
  sampleByteRange,
  sampleShape,
  verifySample,
} from './chunk.js';
import { decodeRefChunk, decodeRefHeader } from './chunk-ref.js';
import type { ColumnManifest } from './manifest.js';

export interface ColumnReaderOptions {
  /** Parsed chunk headers kept in memory. Default 4096. */
  readonly headerCacheEntries?: number;
  /** Decoded whole chunks kept in memory (for whole-chunk codecs). Default 4. */
  readonly chunkCacheEntries?: number;
}

/** A run of consecutive samples from one chunk, as yielded by `scan`. */
export interface SampleRun {
  /** Index of the first sample (column position). */
  readonly start: number;
  readonly samples: ReadonlyArray<Sample | null>;
}

/**
 * Reads one column of one manifest version: sample index → chunk by binary search over the
 * run-length chunk index, ranged reads for single samples when the chunk allows them.
 */
export class ColumnReader {
  /** starts[k] = index of the first sample of chunk k; starts[chunks] = length. */
  private readonly starts: Float64Array;
  private readonly headers = new Map<number, Promise<ChunkHeader>>();
  private readonly chunks = new Map<number, Promise<DecodedChunk>>();
  private readonly maxHeaders: number;
  private readonly maxChunks: number;

  constructor(
    private readonly storage: Storage,
    readonly column: ColumnManifest,
    options: ColumnReaderOptions = {},
  ) {
    this.starts = new Float64Array(column.chunks.length + 1);
    for (let k = 0; k < column.chunks.length; k++) this.starts[k + 1] = this.starts[k] + column.chunks[k].samples;
    this.maxHeaders = options.headerCacheEntries ?? 4096;
    this.maxChunks = options.chunkCacheEntries ?? 4;
  }

  get length(): number {
    return this.column.length;
  }

  /** Chunk index holding sample i (binary search). */
  locate(i: number): number {
    let lo = 0;
    let hi = this.column.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  chunkStart(k: number): number {
    return this.starts[k];
  }

  get chunkCount(): number {
    return this.column.chunks.length;
  }

  async header(k: number, signal?: AbortSignal): Promise<ChunkHeader> {
    let p = this.headers.get(k);
    if (!p) {
      const ref = this.column.chunks[k];
      p = this.storage
        .getRange(ref.key, 0, ref.headerBytes, { signal })
        .then((bytes) => decodeRefHeader(bytes, ref, this.column))
        .catch((err: unknown) => {
          this.headers.delete(k);
          throw this.wrap(err, ref.key);
        });
      remember(this.headers, k, p, this.maxHeaders);
    }
    return p;
  }

  /** The whole chunk k, verified and decompressed. */
  async chunk(k: number, signal?: AbortSignal): Promise<DecodedChunk> {
    let p = this.chunks.get(k);
    if (!p) {
      const ref = this.column.chunks[k];
      p = this.storage
        .get(ref.key, { signal })
        .then((bytes) => decodeRefChunk(bytes, ref, this.column))
        .catch((err: unknown) => {
          this.chunks.delete(k);
          throw this.wrap(err, ref.key);
        });
      remember(this.chunks, k, p, this.maxChunks);
    }
    return p;
  }

  /** Sample i, or null (null cell, or past the column's stored length). */
  async sample(i: number, signal?: AbortSignal): Promise<Sample | null> {
    this.checkIndex(i);
    if (i >= this.column.length) return null;
    const k = this.locate(i);
    const local = i - this.starts[k];
    const cached = this.chunks.get(k);
    if (cached) return sampleAt(await cached, local);
    const h = await this.header(k, signal);
    if (h.codec !== 'none' || !h.sampleCrcs) return sampleAt(await this.chunk(k, signal), local);
    if (isNull(h, local)) return null;
    const [s, e] = sampleByteRange(h, local);
    const ref = this.column.chunks[k];
    let bytes: Uint8Array;
    try {
      bytes = e > s ? await this.storage.getRange(ref.key, h.headerBytes + s, e - s, { signal }) : new Uint8Array(0);
    } catch (err) {
      throw this.wrap(err, ref.key);
    }
    try {
      verifySample(h, local, bytes, ref.key);
    } catch (err) {
      throw this.wrap(err, ref.key);
    }
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), shape: sampleShape(h, local) };
  }

  /**
   * Ranged access to sample i's bytes without reading them (to seek inside a stored video).
   * Only for uncompressed chunks; returns undefined for a null sample.
   */
  async byteSource(
    i: number,
    signal?: AbortSignal,
  ): Promise<{ size: number; read(offset: number, length: number): Promise<Uint8Array> } | undefined> {
    this.checkIndex(i);
    if (i >= this.column.length) return undefined;
    const k = this.locate(i);
    const h = await this.header(k, signal);
    const local = i - this.starts[k];
    if (isNull(h, local)) return undefined;
    if (h.codec !== 'none') {
      const s = await this.sample(i, signal);
      const bytes = s!.bytes;
      return { size: bytes.byteLength, read: (o, n) => Promise.resolve(bytes.subarray(o, o + n)) };
    }
    const [s, e] = sampleByteRange(h, local);
    const key = this.column.chunks[k].key;
    const base = h.headerBytes + s;
    return {
      size: e - s,
      read: (o, n) => this.storage.getRange(key, base + o, Math.max(0, Math.min(n, e - s - o)), { signal }),
    };
  }

  /** Shape of sample i from the chunk header alone (no payload read); undefined for null. */
  async shape(i: number, signal?: AbortSignal): Promise<number[] | undefined> {
    this.checkIndex(i);
    if (i >= this.column.length) return undefined;
    const k = this.locate(i);
    const h = await this.header(k, signal);
    const local = i - this.starts[k];
    return isNull(h, local) ? undefined : sampleShape(h, local);
  }

  /**
   * Chunk k read and verified now, bypassing the chunk cache (a scan's read-ahead). A rejection is
   * already observed, so it surfaces only where the promise is awaited.
   */
  loadChunk(k: number, signal?: AbortSignal): Promise<DecodedChunk> {
    const ref = this.column.chunks[k];
    const p = this.storage
      .get(ref.key, { signal })
      .then((bytes) => decodeRefChunk(bytes, ref, this.column))
      .catch((err: unknown) => {
        throw this.wrap(err, ref.key);
      });
    p.catch(() => undefined);
    return p;
  }

  /**
   * Samples [start, end) in order, one run per chunk, reading whole chunks with up to
   * `prefetchChunks` reads ahead (bounded memory: at most prefetch+1 chunks held).
   */
  async *scan(
    start = 0,
    end = this.column.length,
    options: { signal?: AbortSignal; prefetchChunks?: number } = {},
  ): AsyncGenerator<SampleRun> {
    const stop = Math.min(end, this.column.length);
    if (start >= stop) return;
    const first = this.locate(start);
    const last = this.locate(stop - 1);
    const prefetch = Math.max(0, options.prefetchChunks ?? 2);
    const queue: Promise<DecodedChunk>[] = [];
    const load = (k: number): Promise<DecodedChunk> => this.loadChunk(k, options.signal);
    let next = first;
    while (next <= last && queue.length <= prefetch) queue.push(load(next++));
    for (let k = first; k <= last; k++) {
      const chunk = await queue.shift()!;
      if (next <= last) queue.push(load(next++));
      const base = this.starts[k];
      const from = Math.max(start, base) - base;
      const to = Math.min(stop, this.starts[k + 1]) - base;
      const samples = new Array<Sample | null>(to - from);
      for (let j = from; j < to; j++) samples[j - from] = sampleAt(chunk, j);
      yield { start: base + from, samples };
    }
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0) {
      throw new StrataError('INVALID_ARGUMENT', `row ${i} is not a valid index for column ${this.column.name}`, {
        column: this.column.name,
        row: i,
      });
    }
  }

  private wrap(err: unknown, key: string): unknown {
    if (isStrataError(err, 'NOT_FOUND')) {
      return new StrataError(
        'CORRUPT',
        `chunk ${key} of column ${this.column.name} is missing from ${this.storage.uri}`,
        {
          key,
          column: this.column.name,
          uri: this.storage.uri,
          hint: 'the object was deleted (vacuum with too short a retention?); open an earlier version or restore it',
          cause: err,
        },
      );
    }
    if (isStrataError(err, 'INVALID_ARGUMENT') && err.details.key === key) {
      // A range the manifest and header promise lies past the object's end: the object is truncated.
      return new StrataError('CORRUPT', `chunk ${key} of column ${this.column.name} is truncated`, {
        key,
        column: this.column.name,
        uri: this.storage.uri,
        reason: 'truncated',
        hint: 'restore the object from a backup or open an earlier version',
        cause: err,
      });
    }
    if (isStrataError(err, 'CORRUPT') && err.details.column === undefined) {
      const reason = typeof err.details.reason === 'string' ? err.details.reason : 'unreadable';
      return new StrataError('CORRUPT', `chunk ${key} of column ${this.column.name} is damaged: ${reason}`, {
        ...err.details,
        key,
        column: this.column.name,
        uri: this.storage.uri,
        cause: err,
      });
    }
    return err;
  }
}

function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
