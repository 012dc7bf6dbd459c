/**
 * LRU of byte arrays bounded by total bytes. O(1) per operation: a Map keeps insertion order, so
 * re-inserting on access moves an entry to the young end and eviction takes the first key.
 * Also indexes entries by object key (`owner`) so all ranges of an object can be dropped at once.
 */
export class ByteLru {
  private readonly entries = new Map<string, { bytes: Uint8Array; owner: string }>();
  private readonly byOwner = new Map<string, Set<string>>();
  private total = 0;
  evictions = 0;

  constructor(readonly capacityBytes: number) {}

  /** Bytes currently held. */
  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.size;
  }

  /** The cached bytes (marked most recently used), or undefined. */
  get(id: string): Uint8Array | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.bytes;
  }

  /** Inserts (or replaces) an entry; arrays larger than the capacity are not cached. Returns whether cached. */
  set(id: string, owner: string, bytes: Uint8Array): boolean {
    this.delete(id);
    if (bytes.length > this.capacityBytes) return false;
    this.entries.set(id, { bytes, owner });
    let ids = this.byOwner.get(owner);
    if (ids === undefined) {
      ids = new Set();
      this.byOwner.set(owner, ids);
    }
    ids.add(id);
    this.total += bytes.length;
    while (this.total > this.capacityBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
      this.evictions++;
    }
    return true;
  }

  delete(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    this.total -= entry.bytes.length;
    const ids = this.byOwner.get(entry.owner);
    ids?.delete(id);
    if (ids?.size === 0) this.byOwner.delete(entry.owner);
  }

  /** Drops every entry of an object. */
  deleteOwner(owner: string): void {
    const ids = this.byOwner.get(owner);
    if (ids === undefined) return;
    for (const id of [...ids]) this.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.byOwner.clear();
    this.total = 0;
  }
}
