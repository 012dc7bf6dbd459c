import { raceSignal } from './abort.js';
import { assertOpen, rangePastEnd, validateKey, validateRange } from './checks.js';
import { ByteLru } from './lru.js';
import {
  newStats,
  type ReadOptions,
  type Storage,
  type StorageStats,
  type SweepOptions,
  type WriteOptions,
} from './storage.js';

export interface CachedStorageOptions {
  /** Bytes of object data to keep (LRU). Objects/ranges larger than this are not cached. Default 256 MiB. */
  readonly cacheBytes?: number;
  /** close() also closes the inner store. Default true. */
  readonly closeInner?: boolean;
}

/** StorageStats of the calls made to the cache, plus cache counters. */
export interface CacheStats extends StorageStats {
  /** Reads served from cached bytes. */
  hits: number;
  /** Reads that started an inner request. */
  misses: number;
  /** Reads that joined an identical inner request already in flight. */
  shared: number;
  /** Entries dropped to stay within cacheBytes. */
  evictions: number;
  /** Bytes currently cached. */
  cachedBytes: number;
}

interface Flight {
  readonly owner: string;
  readonly promise: Promise<Uint8Array>;
  /** Set when the key is written while in flight: the result must not be cached. */
  stale: boolean;
}

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * A read-through LRU byte cache in front of another Storage. Caches whole objects (get) and exact
 * ranges (getRange); a range is also served from a cached or in-flight whole object. Concurrent
 * identical reads share one inner request. put/putIfAbsent/delete invalidate the key; list, size
 * and exists always go to the inner store (listings must be fresh). Returned arrays are the
 * caller's own copies. A caller's abort stops its wait, not a request other callers share.
 */
export class CachedStorage implements Storage {
  readonly uri: string;
  readonly stats: CacheStats = { ...newStats(), hits: 0, misses: 0, shared: 0, evictions: 0, cachedBytes: 0 };
  private readonly lru: ByteLru;
  private readonly inflight = new Map<string, Flight>();
  private readonly closeInner: boolean;
  private closed = false;

  constructor(
    readonly inner: Storage,
    options: CachedStorageOptions = {},
  ) {
    this.uri = inner.uri;
    this.lru = new ByteLru(Math.max(0, options.cacheBytes ?? DEFAULT_CACHE_BYTES));
    this.closeInner = options.closeInner ?? true;
  }

  async get(key: string, options?: ReadOptions): Promise<Uint8Array> {
    this.check(key);
    this.stats.gets++;
    const id = wholeId(key);
    const cached = this.lru.get(id);
    const bytes =
      cached ??
      (await raceSignal(
        this.load(id, key, () => this.inner.get(key)),
        options?.signal,
        `read of "${key}"`,
        { uri: this.uri, key },
      ));
    if (cached !== undefined) this.stats.hits++;
    this.stats.bytesRead += bytes.length;
    return copy(bytes, 0, bytes.length);
  }

  async getRange(key: string, offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    this.check(key);
    validateRange(offset, length, key, this.uri);
    this.stats.rangeGets++;
    const whole = this.lru.get(wholeId(key));
    if (whole !== undefined) {
      this.stats.hits++;
      return this.slice(whole, key, offset, length);
    }
    const id = rangeId(key, offset, length);
    const cached = this.lru.get(id);
    if (cached !== undefined) {
      this.stats.hits++;
      this.stats.bytesRead += length;
      return copy(cached, 0, length);
    }
    const what = `read of "${key}"`;
    const details = { uri: this.uri, key };
    const wholeFlight = this.inflight.get(wholeId(key));
    if (wholeFlight !== undefined) {
      this.stats.shared++;
      return this.slice(await raceSignal(wholeFlight.promise, options?.signal, what, details), key, offset, length);
    }
    const bytes = await raceSignal(
      this.load(id, key, () => this.inner.getRange(key, offset, length)),
      options?.signal,
      what,
      details,
    );
    this.stats.bytesRead += bytes.length;
    return copy(bytes, 0, bytes.length);
  }

  async put(key: string, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.check(key);
    this.stats.puts++;
    this.invalidate(key);
    try {
      await this.inner.put(key, data, options);
    } finally {
      this.invalidate(key);
    }
    this.stats.bytesWritten += data.length;
  }

  async putIfAbsent(key: string, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.check(key);
    this.stats.puts++;
    this.invalidate(key);
    try {
      await this.inner.putIfAbsent(key, data, options);
    } finally {
      this.invalidate(key);
    }
    this.stats.bytesWritten += data.length;
  }

  /** Forwards to the wrapped store (temporaries are never cached). */
  sweepTemporaries(cutoffMs: number, options?: SweepOptions): Promise<{ files: number; bytes: number }> {
    return this.inner.sweepTemporaries?.(cutoffMs, options) ?? Promise.resolve({ files: 0, bytes: 0 });
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    this.check(key);
    this.stats.deletes++;
    this.invalidate(key);
    try {
      await this.inner.delete(key, options);
    } finally {
      this.invalidate(key);
    }
  }

  async list(prefix: string, options?: ReadOptions): Promise<string[]> {
    assertOpen(this.closed, this.uri);
    this.stats.lists++;
    return this.inner.list(prefix, options);
  }

  async size(key: string, options?: ReadOptions): Promise<number | undefined> {
    assertOpen(this.closed, this.uri);
    this.stats.heads++;
    return this.inner.size(key, options);
  }

  async exists(key: string, options?: ReadOptions): Promise<boolean> {
    assertOpen(this.closed, this.uri);
    this.stats.heads++;
    return this.inner.exists(key, options);
  }

  /** Drops all cached bytes (in-flight reads complete but are not cached). */
  clear(): void {
    this.lru.clear();
    for (const flight of this.inflight.values()) flight.stale = true;
    this.inflight.clear();
    this.syncCounters();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clear();
    if (this.closeInner) await this.inner.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Keys are validated by the inner store (HttpStorage, for one, accepts '' for its base URL). */
  private check(key: string): void {
    assertOpen(this.closed, this.uri);
    if (typeof key !== 'string') validateKey(key, this.uri);
  }

  private slice(whole: Uint8Array, key: string, offset: number, length: number): Uint8Array {
    if (offset + length > whole.length) throw rangePastEnd(key, this.uri, offset, length, whole.length);
    this.stats.bytesRead += length;
    return copy(whole, offset, offset + length);
  }

  /** Joins the identical in-flight request or starts one; caches its result unless invalidated meanwhile. */
  private load(id: string, owner: string, fetch: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const existing = this.inflight.get(id);
    if (existing !== undefined) {
      this.stats.shared++;
      return existing.promise;
    }
    this.stats.misses++;
    const flight: Flight = {
      owner,
      stale: false,
      promise: fetch().then(
        (bytes) => {
          if (this.inflight.get(id) === flight) this.inflight.delete(id);
          if (!flight.stale && !this.closed) {
            this.lru.set(id, owner, bytes);
            this.syncCounters();
          }
          return bytes;
        },
        (err: unknown) => {
          if (this.inflight.get(id) === flight) this.inflight.delete(id);
          throw err;
        },
      ),
    };
    this.inflight.set(id, flight);
    return flight.promise;
  }

  private invalidate(key: string): void {
    this.lru.deleteOwner(key);
    for (const [id, flight] of this.inflight) {
      if (flight.owner === key) {
        flight.stale = true;
        this.inflight.delete(id);
      }
    }
    this.syncCounters();
  }

  private syncCounters(): void {
    this.stats.evictions = this.lru.evictions;
    this.stats.cachedBytes = this.lru.bytes;
  }
}

function wholeId(key: string): string {
  return `*${key}`;
}

function rangeId(key: string, offset: number, length: number): string {
  return `${offset}:${length}:${key}`;
}

function copy(src: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(src.subarray(start, end));
  return out;
}
