/**
 * Where bytes live. Every backend (memory, local, S3) and wrapper (cache) implements this
 * interface; keys are '/'-separated relative paths below the store's root, never starting with '/'.
 */
export interface Storage {
  /** A URI naming the root, for messages (e.g. `s3://bucket/prefix`, `/data/ds`, `memory://x`). */
  readonly uri: string;
  /** Whole object. Throws StrataError NOT_FOUND when absent. */
  get(key: string, options?: ReadOptions): Promise<Uint8Array>;
  /** Bytes [offset, offset+length) of an object. Throws NOT_FOUND when absent, INVALID_ARGUMENT past the end. */
  getRange(key: string, offset: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
  /** Create or replace an object atomically (readers see the old or the new bytes, never a mix). */
  put(key: string, data: Uint8Array, options?: WriteOptions): Promise<void>;
  /** Create only if absent, atomically. Throws StrataError CONFLICT if the key exists. */
  putIfAbsent(key: string, data: Uint8Array, options?: WriteOptions): Promise<void>;
  /** Keys below a prefix (recursive), sorted ascending. */
  list(prefix: string, options?: ReadOptions): Promise<string[]>;
  /** Remove an object; absent is not an error. */
  delete(key: string, options?: WriteOptions): Promise<void>;
  /** Size in bytes, or undefined when absent. */
  size(key: string, options?: ReadOptions): Promise<number | undefined>;
  exists(key: string, options?: ReadOptions): Promise<boolean>;
  /**
   * Backends that write temporary objects (local: `.tmp-*` files before a rename) delete those
   * last modified before `cutoffMs` (ms since the epoch), left by writers that were killed.
   * Absent on backends without temporaries. Used by `vacuum`.
   */
  sweepTemporaries?(cutoffMs: number, options?: SweepOptions): Promise<{ files: number; bytes: number }>;
  /** Counters for tests and benchmarks (requests and bytes moved). */
  readonly stats: StorageStats;
  /** Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ReadOptions {
  readonly signal?: AbortSignal;
}

export interface SweepOptions {
  readonly signal?: AbortSignal;
  /** Count what would be deleted without deleting. */
  readonly dryRun?: boolean;
}

export interface WriteOptions {
  readonly signal?: AbortSignal;
  readonly contentType?: string;
}

/**
 * Operation counters. Network backends count HTTP requests (each retry attempt is a request and is
 * also counted in `retries`); local backends count calls. `heads` counts size/exists probes.
 */
export interface StorageStats {
  gets: number;
  rangeGets: number;
  puts: number;
  lists: number;
  deletes: number;
  heads: number;
  retries: number;
  bytesRead: number;
  bytesWritten: number;
}

export function newStats(): StorageStats {
  return {
    gets: 0,
    rangeGets: 0,
    puts: 0,
    lists: 0,
    deletes: 0,
    heads: 0,
    retries: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };
}

/** Joins key parts with '/', dropping empty parts and duplicate slashes. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0)
    .join('/');
}
