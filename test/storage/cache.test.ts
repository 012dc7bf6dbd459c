import { describe, expect, it } from 'vitest';
import { CachedStorage } from '../../src/storage/cache.js';
import { ByteLru } from '../../src/storage/lru.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import type { ReadOptions, Storage } from '../../src/storage/storage.js';

/**
 * A real MemoryStorage whose reads wait at a gate until released, so tests control exactly when
 * inner requests complete (no timing assumptions).
 */
class GatedStorage extends MemoryStorage {
  private waiting: Array<() => void> = [];
  gated = true;

  // The answer is taken when the request starts and delivered when the gate opens, like a
  // response in transit: a write in between must not make the cache keep the old bytes.
  override async get(key: string, options?: ReadOptions): Promise<Uint8Array> {
    const answer = super.get(key, options).then(ok, fail);
    await this.gate();
    return (await answer)();
  }

  override async getRange(key: string, offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    const answer = super.getRange(key, offset, length, options).then(ok, fail);
    await this.gate();
    return (await answer)();
  }

  get pending(): number {
    return this.waiting.length;
  }

  release(): void {
    const all = this.waiting;
    this.waiting = [];
    for (const go of all) go();
  }

  private gate(): Promise<void> {
    if (!this.gated) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

const ok = (v: Uint8Array) => (): Uint8Array => v;
const fail = (e: unknown) => (): never => {
  throw e;
};
const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function seeded(cacheBytes: number): Promise<{ inner: MemoryStorage; cache: CachedStorage }> {
  const inner = new MemoryStorage();
  const cache = new CachedStorage(inner, { cacheBytes });
  return Promise.resolve({ inner, cache });
}

describe('CachedStorage', () => {
  it('serves repeated gets and ranges from cache', async () => {
    const { inner, cache } = await seeded(1 << 20);
    await inner.put('a', fill(100, 1));
    await cache.get('a');
    await cache.get('a');
    expect(inner.stats.gets).toBe(1);
    expect(cache.stats).toMatchObject({ gets: 2, hits: 1, misses: 1 });

    await inner.put(
      'b',
      Uint8Array.from({ length: 50 }, (_, i) => i),
    );
    expect(Array.from(await cache.getRange('b', 10, 3))).toEqual([10, 11, 12]);
    expect(Array.from(await cache.getRange('b', 10, 3))).toEqual([10, 11, 12]);
    expect(inner.stats.rangeGets).toBe(1);
  });

  it('serves ranges from a cached whole object', async () => {
    const { inner, cache } = await seeded(1 << 20);
    await inner.put(
      'w',
      Uint8Array.from({ length: 20 }, (_, i) => i),
    );
    await cache.get('w');
    expect(Array.from(await cache.getRange('w', 18, 2))).toEqual([18, 19]);
    expect((await cache.getRange('w', 20, 0)).length).toBe(0);
    await expect(cache.getRange('w', 19, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(inner.stats.rangeGets).toBe(0);
  });

  it('evicts least recently used entries by bytes', async () => {
    const { inner, cache } = await seeded(100);
    for (const k of ['a', 'b', 'c']) await inner.put(k, fill(40, 1));
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now younger than b
    await cache.get('c'); // 120 > 100: evicts b
    expect(cache.stats.evictions).toBe(1);
    expect(cache.stats.cachedBytes).toBe(80);
    const before = inner.stats.gets;
    await cache.get('a');
    await cache.get('c');
    expect(inner.stats.gets).toBe(before);
    await cache.get('b');
    expect(inner.stats.gets).toBe(before + 1);
  });

  it('does not cache objects larger than the cache', async () => {
    const { inner, cache } = await seeded(10);
    await inner.put('big', fill(11, 2));
    await cache.get('big');
    await cache.get('big');
    expect(inner.stats.gets).toBe(2);
    expect(cache.stats.cachedBytes).toBe(0);
  });

  it('shares one inner request among concurrent identical reads', async () => {
    const inner = new GatedStorage();
    const cache = new CachedStorage(inner, { cacheBytes: 1 << 20 });
    inner.gated = false;
    await inner.put(
      'k',
      Uint8Array.from({ length: 64 }, (_, i) => i),
    );
    inner.gated = true;

    const wholes = Array.from({ length: 10 }, () => cache.get('k'));
    const ranges = Array.from({ length: 10 }, () => cache.getRange('k', 8, 8));
    await tick();
    expect(inner.pending).toBe(1); // ranges wait for the in-flight whole object
    inner.release();
    const results = await Promise.all([...wholes, ...ranges]);
    expect(results.slice(0, 10).every((r) => r.length === 64)).toBe(true);
    expect(results.slice(10).every((r) => r[0] === 8 && r.length === 8)).toBe(true);
    expect(inner.stats.gets).toBe(1);
    expect(inner.stats.rangeGets).toBe(0);
    expect(cache.stats.shared).toBe(19);
    // Every caller owns its bytes.
    results[0][0] = 99;
    expect(results[1][0]).toBe(0);

    const sameRange = Array.from({ length: 5 }, () => cache.getRange('other', 0, 1).catch((e: unknown) => e));
    await tick();
    expect(inner.pending).toBe(1);
    inner.release();
    for (const r of await Promise.all(sameRange)) expect(r).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('invalidates on put and delete, even for reads in flight', async () => {
    const inner = new GatedStorage();
    inner.gated = false;
    const cache = new CachedStorage(inner, { cacheBytes: 1 << 20 });
    await cache.put('v', fill(4, 1));
    expect((await cache.get('v'))[0]).toBe(1);
    await cache.getRange('v', 0, 2);
    await cache.put('v', fill(4, 2));
    expect((await cache.get('v'))[0]).toBe(2);
    expect((await cache.getRange('v', 0, 2))[0]).toBe(2);

    await cache.put('v', fill(4, 2)); // invalidates: the next read goes to the inner store
    inner.gated = true;
    const stale = cache.get('v');
    await tick();
    expect(inner.pending).toBe(1);
    inner.gated = false;
    await cache.put('v', fill(4, 3)); // overtakes the gated read
    inner.release();
    expect((await stale)[0]).toBe(2); // the old bytes, as read before the put
    expect((await cache.get('v'))[0]).toBe(3); // ...but not cached
    expect((await cache.getRange('v', 0, 1))[0]).toBe(3);

    await cache.delete('v');
    await expect(cache.get('v')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('passes list, size and exists through uncached', async () => {
    const { inner, cache } = await seeded(1 << 20);
    await cache.put('m/1', fill(3, 1));
    expect(await cache.list('m/')).toEqual(['m/1']);
    await inner.put('m/2', fill(5, 1)); // written behind the cache's back
    expect(await cache.list('m/')).toEqual(['m/1', 'm/2']);
    expect(await cache.size('m/2')).toBe(5);
    expect(await cache.exists('m/3')).toBe(false);
  });

  it("one caller's abort does not cancel the shared request", async () => {
    const inner = new GatedStorage();
    inner.gated = false;
    await inner.put('s', fill(8, 5));
    inner.gated = true;
    const cache = new CachedStorage(inner, { cacheBytes: 1 << 20 });
    const ctl = new AbortController();
    const a = cache.get('s', { signal: ctl.signal });
    const b = cache.get('s');
    await tick();
    ctl.abort();
    await expect(a).rejects.toMatchObject({ code: 'ABORTED' });
    inner.release();
    expect((await b)[0]).toBe(5);
  });

  it('closes the inner store by default', async () => {
    const inner: Storage = new MemoryStorage();
    const cache = new CachedStorage(inner);
    await cache.close();
    await cache.close();
    await expect(inner.list('')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('ByteLru', () => {
  it('keeps total bytes within capacity and drops all entries of an owner', () => {
    const lru = new ByteLru(10);
    lru.set('a:1', 'a', fill(4, 0));
    lru.set('a:2', 'a', fill(4, 0));
    lru.set('b:1', 'b', fill(4, 0));
    expect(lru.bytes).toBe(8);
    expect(lru.get('a:1')).toBeUndefined();
    lru.deleteOwner('a');
    expect(lru.bytes).toBe(4);
    expect(lru.count).toBe(1);
    expect(lru.set('huge', 'h', fill(11, 0))).toBe(false);
  });
});
