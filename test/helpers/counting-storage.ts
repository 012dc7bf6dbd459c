import type { ReadOptions, Storage, StorageStats, WriteOptions } from '../../src/storage/storage.js';

/** Wraps a storage and records every key read, so tests can prove which objects were touched. */
export class CountingStorage implements Storage {
  readonly reads: string[] = [];
  constructor(private readonly inner: Storage) {}
  get uri(): string {
    return this.inner.uri;
  }
  get stats(): StorageStats {
    return this.inner.stats;
  }
  get(key: string, o?: ReadOptions) {
    this.reads.push(key);
    return this.inner.get(key, o);
  }
  getRange(key: string, off: number, len: number, o?: ReadOptions) {
    this.reads.push(key);
    return this.inner.getRange(key, off, len, o);
  }
  put(key: string, d: Uint8Array, o?: WriteOptions) {
    return this.inner.put(key, d, o);
  }
  putIfAbsent(key: string, d: Uint8Array, o?: WriteOptions) {
    return this.inner.putIfAbsent(key, d, o);
  }
  list(p: string, o?: ReadOptions) {
    return this.inner.list(p, o);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  size(key: string, o?: ReadOptions) {
    return this.inner.size(key, o);
  }
  exists(key: string) {
    return this.inner.exists(key);
  }
  close() {
    return this.inner.close();
  }
  [Symbol.asyncDispose]() {
    return this.inner.close();
  }
  /** Keys read that belong to the given column ids (chunks/<id>/...). */
  chunkReads(columnIds: string[]): string[] {
    return this.reads.filter((k) => columnIds.some((id) => k.startsWith(`chunks/${id}/`)));
  }
}
