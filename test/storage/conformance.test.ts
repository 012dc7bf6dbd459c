import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedStorage } from '../../src/storage/cache.js';
import { LocalStorage } from '../../src/storage/local.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { S3Storage } from '../../src/storage/s3.js';
import type { Storage } from '../../src/storage/storage.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

let tmpRoot = '';
let s3: S3TestServer | undefined;
let counter = 0;

beforeAll(async () => {
  tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-conf-'));
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.stop();
  await fsp.rm(tmpRoot, { recursive: true, force: true });
});

const backends: Array<{ name: string; open: () => Promise<Storage> }> = [
  { name: 'memory', open: () => Promise.resolve(new MemoryStorage()) },
  {
    name: 'local (sync small reads)',
    open: () => Promise.resolve(new LocalStorage(path.join(tmpRoot, `l${++counter}`))),
  },
  {
    name: 'local (async reads, fsync)',
    open: () =>
      Promise.resolve(new LocalStorage(path.join(tmpRoot, `l${++counter}`), { syncReadMaxBytes: 0, fsync: true })),
  },
  {
    name: 's3',
    open: () =>
      Promise.resolve(new S3Storage(s3!.uri(`conf/t${++counter}`), { ...s3!.s3Options, retryBaseDelayMs: 5 })),
  },
  {
    name: 'cache over local',
    open: () =>
      Promise.resolve(
        new CachedStorage(new LocalStorage(path.join(tmpRoot, `l${++counter}`)), { cacheBytes: 1 << 20 }),
      ),
  },
];

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.each(backends)('Storage conformance: $name', ({ open }) => {
  let store: Storage;
  const fresh = async (): Promise<Storage> => {
    store = await open();
    return store;
  };

  it('puts and gets whole objects, isolated from caller mutation', async () => {
    await fresh();
    const data = bytes(1, 2, 3, 4, 5);
    await store.put('a/b.bin', data);
    data[0] = 99;
    const got = await store.get('a/b.bin');
    expect(Array.from(got)).toEqual([1, 2, 3, 4, 5]);
    got[1] = 42;
    expect(Array.from(await store.get('a/b.bin'))).toEqual([1, 2, 3, 4, 5]);
    await store.put('empty', new Uint8Array(0));
    expect((await store.get('empty')).length).toBe(0);
  });

  it('reads ranges, including empty ranges and ranges ending at the end', async () => {
    await fresh();
    await store.put('r', bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
    expect(Array.from(await store.getRange('r', 2, 3))).toEqual([2, 3, 4]);
    expect(Array.from(await store.getRange('r', 7, 3))).toEqual([7, 8, 9]);
    expect(Array.from(await store.getRange('r', 0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await store.getRange('r', 0, 0)).length).toBe(0);
    expect((await store.getRange('r', 10, 0)).length).toBe(0);
    expect((await store.getRange('r', 4, 0)).length).toBe(0);
    await expect(store.getRange('r', 8, 3)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.getRange('r', 11, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.getRange('r', 11, 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.getRange('r', -1, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.getRange('r', 0, 1.5)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await store.put('e', new Uint8Array(0));
    expect((await store.getRange('e', 0, 0)).length).toBe(0);
    await expect(store.getRange('e', 0, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('throws NOT_FOUND with uri and key for missing objects', async () => {
    await fresh();
    await expect(store.get('missing/x')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { key: 'missing/x', uri: store.uri },
    });
    await expect(store.getRange('missing/x', 0, 4)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.getRange('missing/x', 0, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.put('dir/file', bytes(1));
    await expect(store.get('dir')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.get('dir/file/deeper')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('overwrites with put', async () => {
    await fresh();
    await store.put('k', text('first version'));
    await store.put('k', text('v2'));
    expect(new TextDecoder().decode(await store.get('k'))).toBe('v2');
    expect(await store.size('k')).toBe(2);
  });

  it('putIfAbsent creates once, then throws CONFLICT and keeps the first bytes', async () => {
    await fresh();
    await store.putIfAbsent('once/k', text('one'));
    await expect(store.putIfAbsent('once/k', text('two'))).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { key: 'once/k' },
    });
    expect(new TextDecoder().decode(await store.get('once/k'))).toBe('one');
    expect(await store.list('once/')).toEqual(['once/k']);
  });

  it('16 concurrent putIfAbsent of one key have exactly one winner', async () => {
    await fresh();
    const attempts = Array.from({ length: 16 }, (_, i) =>
      store.putIfAbsent('race/commit', text(`writer-${i}-${'x'.repeat(i * 100)}`)),
    );
    const results = await Promise.allSettled(attempts);
    const winners = results.map((r, i) => (r.status === 'fulfilled' ? i : -1)).filter((i) => i >= 0);
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
    }
    const stored = new TextDecoder().decode(await store.get('race/commit'));
    expect(stored).toBe(`writer-${winners[0]}-${'x'.repeat(winners[0] * 100)}`);
    expect(await store.list('race/')).toEqual(['race/commit']);
  });

  it('lists recursively by prefix, sorted', async () => {
    await fresh();
    expect(await store.list('')).toEqual([]);
    for (const key of ['c', 'a/2', 'b/x', 'a/b/3', 'ab', 'a/1', 'a/b/c/4']) await store.put(key, bytes(1));
    expect(await store.list('')).toEqual(['a/1', 'a/2', 'a/b/3', 'a/b/c/4', 'ab', 'b/x', 'c']);
    expect(await store.list('a/')).toEqual(['a/1', 'a/2', 'a/b/3', 'a/b/c/4']);
    expect(await store.list('a')).toEqual(['a/1', 'a/2', 'a/b/3', 'a/b/c/4', 'ab']);
    expect(await store.list('a/b')).toEqual(['a/b/3', 'a/b/c/4']);
    expect(await store.list('a/b/c/')).toEqual(['a/b/c/4']);
    expect(await store.list('zzz/')).toEqual([]);
    expect(await store.list('c/')).toEqual([]);
  });

  it('deletes objects; deleting an absent key is fine', async () => {
    await fresh();
    await store.put('d/1', bytes(1));
    await store.put('d/2', bytes(2));
    await store.delete('d/1');
    await store.delete('d/1');
    await store.delete('never/existed');
    expect(await store.exists('d/1')).toBe(false);
    expect(await store.list('d/')).toEqual(['d/2']);
    await expect(store.get('d/1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reports size and exists', async () => {
    await fresh();
    await store.put('s/seven', new Uint8Array(7));
    await store.put('s/zero', new Uint8Array(0));
    expect(await store.size('s/seven')).toBe(7);
    expect(await store.size('s/zero')).toBe(0);
    expect(await store.size('s/none')).toBeUndefined();
    expect(await store.size('s')).toBeUndefined();
    expect(await store.exists('s/zero')).toBe(true);
    expect(await store.exists('s/none')).toBe(false);
  });

  it('round-trips every byte value', async () => {
    await fresh();
    const all = new Uint8Array(256 * 4);
    for (let i = 0; i < all.length; i++) all[i] = i % 256;
    await store.put('bin/all', all);
    expect(Buffer.compare(await store.get('bin/all'), all)).toBe(0);
    expect(Buffer.compare(await store.getRange('bin/all', 250, 12), all.subarray(250, 262))).toBe(0);
  });

  it('stores a 10 MB object and reads ranges of it', async () => {
    await fresh();
    const big = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
    big[big.length - 1] = 77;
    await store.put('big/10mb', big);
    expect(await store.size('big/10mb')).toBe(big.length);
    const got = await store.get('big/10mb');
    expect(got.length).toBe(big.length);
    expect(Buffer.compare(got, big)).toBe(0);
    const tail = await store.getRange('big/10mb', big.length - 100_000, 100_000);
    expect(Buffer.compare(tail, big.subarray(big.length - 100_000))).toBe(0);
    const mid = await store.getRange('big/10mb', 4 * 1024 * 1024 + 3, 300_000);
    expect(Buffer.compare(mid, big.subarray(4 * 1024 * 1024 + 3, 4 * 1024 * 1024 + 300_003))).toBe(0);
  });

  it('rejects invalid keys and prefixes with INVALID_ARGUMENT', async () => {
    await fresh();
    for (const key of ['', '/abs', 'a//b', '../up', 'a/./b', 'a/', 'x/.tmp-123']) {
      await expect(store.put(key, bytes(1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.get(key)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(store.list('/a')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.list('../')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('honours an aborted signal', async () => {
    await fresh();
    await store.put('ab', bytes(1, 2));
    const signal = AbortSignal.abort();
    await expect(store.get('ab', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(store.getRange('ab', 0, 1, { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(store.put('ab2', bytes(1), { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(store.list('', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await store.exists('ab2')).toBe(false);
  });

  it('counts operations in stats and closes idempotently', async () => {
    await fresh();
    await store.put('st', bytes(1, 2, 3));
    await store.get('st');
    await store.getRange('st', 1, 2);
    await store.list('');
    expect(store.stats.puts).toBeGreaterThanOrEqual(1);
    expect(store.stats.gets).toBeGreaterThanOrEqual(1);
    expect(store.stats.rangeGets).toBeGreaterThanOrEqual(1);
    expect(store.stats.lists).toBeGreaterThanOrEqual(1);
    expect(store.stats.bytesWritten).toBeGreaterThanOrEqual(3);
    expect(store.stats.bytesRead).toBeGreaterThanOrEqual(5);
    await store.close();
    await store[Symbol.asyncDispose]();
    await expect(store.get('st')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
