import { throwIfAborted } from '../errors.js';
import {
  assertOpen,
  conflict,
  notFound,
  rangePastEnd,
  sortKeys,
  validateKey,
  validatePrefix,
  validateRange,
} from './checks.js';
import { newStats, type ReadOptions, type Storage, type StorageStats, type WriteOptions } from './storage.js';

type Objects = Map<string, Uint8Array>;

/** Process-wide registry (shared even if this module is loaded twice). */
const REGISTRY_SYMBOL = Symbol.for('strata.storage.memory.registry');
function registry(): Map<string, Objects> {
  const g = globalThis as { [REGISTRY_SYMBOL]?: Map<string, Objects> };
  return (g[REGISTRY_SYMBOL] ??= new Map<string, Objects>());
}

/**
 * In-memory objects. `memory://name` opens a process-wide store shared by every open of the same
 * name; `memory://` (no name) is private to this instance. Bytes are copied on put and on get so
 * callers can never mutate stored data.
 */
export class MemoryStorage implements Storage {
  readonly uri: string;
  readonly stats: StorageStats = newStats();
  /** The registry name, or undefined for a private store. */
  readonly name: string | undefined;
  private readonly objects: Objects;
  private closed = false;

  /** `name` undefined or '' gives a private store. */
  constructor(name?: string) {
    this.name = name ? name : undefined;
    this.uri = `memory://${name ?? ''}`;
    if (this.name === undefined) {
      this.objects = new Map();
    } else {
      const reg = registry();
      let objects = reg.get(this.name);
      if (objects === undefined) {
        objects = new Map();
        reg.set(this.name, objects);
      }
      this.objects = objects;
    }
  }

  /** Opens `memory://name` (or a private store for `memory://`). */
  static open(uri: string): Promise<MemoryStorage> {
    const name = uri.replace(/^memory:\/\//, '').replace(/\/+$/, '');
    return Promise.resolve(new MemoryStorage(name));
  }

  /** Forgets a named store's objects (tests). Open instances keep their current map. */
  static drop(name: string): void {
    registry().delete(name);
  }

  async get(key: string, options?: ReadOptions): Promise<Uint8Array> {
    const data = this.lookup(key, options?.signal);
    this.stats.gets++;
    this.stats.bytesRead += data.length;
    return data.slice();
  }

  async getRange(key: string, offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    validateRange(offset, length, key, this.uri);
    const data = this.lookup(key, options?.signal);
    if (offset + length > data.length) throw rangePastEnd(key, this.uri, offset, length, data.length);
    this.stats.rangeGets++;
    this.stats.bytesRead += length;
    return data.slice(offset, offset + length);
  }

  async put(key: string, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.checkWrite(key, options?.signal);
    this.objects.set(key, copy(data));
    this.stats.puts++;
    this.stats.bytesWritten += data.length;
  }

  async putIfAbsent(key: string, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.checkWrite(key, options?.signal);
    if (this.objects.has(key)) throw conflict(key, this.uri);
    this.objects.set(key, copy(data));
    this.stats.puts++;
    this.stats.bytesWritten += data.length;
  }

  async list(prefix: string, options?: ReadOptions): Promise<string[]> {
    assertOpen(this.closed, this.uri);
    validatePrefix(prefix, this.uri);
    throwIfAborted(options?.signal, `list ${this.uri}`);
    this.stats.lists++;
    const keys: string[] = [];
    for (const key of this.objects.keys()) if (key.startsWith(prefix)) keys.push(key);
    return sortKeys(keys);
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    this.checkWrite(key, options?.signal);
    this.stats.deletes++;
    this.objects.delete(key);
  }

  async size(key: string, options?: ReadOptions): Promise<number | undefined> {
    this.checkRead(key, options?.signal);
    this.stats.heads++;
    return this.objects.get(key)?.length;
  }

  async exists(key: string, options?: ReadOptions): Promise<boolean> {
    return (await this.size(key, options)) !== undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private lookup(key: string, signal: AbortSignal | undefined): Uint8Array {
    this.checkRead(key, signal);
    const data = this.objects.get(key);
    if (data === undefined) throw notFound(key, this.uri);
    return data;
  }

  private checkRead(key: string, signal: AbortSignal | undefined): void {
    assertOpen(this.closed, this.uri);
    validateKey(key, this.uri);
    throwIfAborted(signal, `read of "${key}" in ${this.uri}`);
  }

  private checkWrite(key: string, signal: AbortSignal | undefined): void {
    assertOpen(this.closed, this.uri);
    validateKey(key, this.uri);
    throwIfAborted(signal, `write of "${key}" in ${this.uri}`);
  }
}

function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}
