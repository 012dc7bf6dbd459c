import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CachedStorage,
  HttpStorage,
  LocalStorage,
  MemoryStorage,
  S3Storage,
  backoffDelayMs,
  compareKeys,
  openStorage,
  parseUri,
  withRetry,
} from '../../src/storage/index.js';

let tmp = '';
beforeAll(async () => {
  // The SDK warns once per process that it will need Node 22 from 2027; noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-open-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe('parseUri', () => {
  it('parses every accepted scheme', () => {
    expect(parseUri('memory://cache')).toEqual({ scheme: 'memory', name: 'cache' });
    expect(parseUri('memory://')).toEqual({ scheme: 'memory', name: '' });
    expect(parseUri('file:///data/ds')).toEqual({ scheme: 'file', path: '/data/ds' });
    expect(parseUri('/data/ds/')).toEqual({ scheme: 'file', path: '/data/ds' });
    expect(parseUri('rel/ds')).toEqual({ scheme: 'file', path: path.resolve('rel/ds') });
    expect(parseUri('s3://bucket')).toEqual({ scheme: 's3', bucket: 'bucket', prefix: '' });
    expect(parseUri('s3://bucket//a/b/')).toEqual({ scheme: 's3', bucket: 'bucket', prefix: 'a/b' });
    expect(parseUri('https://h.example/x/y.jpg?sig=1')).toEqual({
      scheme: 'https',
      url: 'https://h.example/x/y.jpg?sig=1',
    });
  });

  it('rejects invalid URIs with INVALID_ARGUMENT naming the uri and schemes', () => {
    for (const bad of ['', 'gs://bucket/x', 'ftp://host/x', 's3://', 's3:///x', 'http://', 'azure:container']) {
      expect(() => parseUri(bad)).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          details: expect.objectContaining({ uri: bad }) as unknown,
        }),
      );
    }
  });
});

describe('openStorage', () => {
  it('dispatches on scheme', async () => {
    expect(await openStorage('memory://x')).toBeInstanceOf(MemoryStorage);
    expect(await openStorage(tmp)).toBeInstanceOf(LocalStorage);
    expect(await openStorage(pathToFileURL(tmp).href)).toBeInstanceOf(LocalStorage);
    const s3 = await openStorage('s3://b/p', { s3: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' } });
    expect(s3).toBeInstanceOf(S3Storage);
    expect(s3.uri).toBe('s3://b/p');
    await s3.close();
    expect(await openStorage('http://127.0.0.1:9/x')).toBeInstanceOf(HttpStorage);
    const cached = await openStorage('memory://', { cacheBytes: 1024 });
    expect(cached).toBeInstanceOf(CachedStorage);
    await expect(openStorage('gs://b')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('opens relative paths as absolute local directories', async () => {
    const rel = path.relative(process.cwd(), path.join(tmp, 'rel'));
    const store = await openStorage(rel);
    expect(store.uri).toBe(path.join(tmp, 'rel'));
    await store.put('k', Uint8Array.of(1));
    expect(await fsp.readFile(path.join(tmp, 'rel', 'k'))).toEqual(Buffer.of(1));
  });

  it('shares named memory stores and keeps unnamed ones private', async () => {
    const a = await openStorage('memory://shared-open-test');
    const b = await openStorage('memory://shared-open-test');
    await a.put('k', Uint8Array.of(7));
    expect(Array.from(await b.get('k'))).toEqual([7]);
    const p1 = await openStorage('memory://');
    const p2 = await openStorage('memory://');
    await p1.put('k', Uint8Array.of(1));
    expect(await p2.exists('k')).toBe(false);
    MemoryStorage.drop('shared-open-test');
    expect(await (await openStorage('memory://shared-open-test')).exists('k')).toBe(false);
  });
});

describe('LocalStorage specifics', () => {
  it('ignores temp files in listings and leaves none behind', async () => {
    const root = path.join(tmp, 'temps');
    const store = new LocalStorage(root);
    await store.put('d/x', Uint8Array.of(1));
    await store.putIfAbsent('d/y', Uint8Array.of(2));
    await expect(store.putIfAbsent('d/y', Uint8Array.of(3))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await fsp.readdir(path.join(root, 'd'))).sort()).toEqual(['x', 'y']);
    await fsp.writeFile(path.join(root, 'd', '.tmp-crashed'), 'partial');
    expect(await store.list('')).toEqual(['d/x', 'd/y']);
  });

  it('refuses a key that would need a file to be a directory', async () => {
    const store = new LocalStorage(path.join(tmp, 'clash'));
    await store.put('a', Uint8Array.of(1));
    await expect(store.put('a/b', Uint8Array.of(1))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await store.put('c/d', Uint8Array.of(1));
    await expect(store.put('c', Uint8Array.of(1))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(store.putIfAbsent('c', Uint8Array.of(1))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('reads ranges the same way on the sync and async paths', async () => {
    const root = path.join(tmp, 'paths');
    const data = Uint8Array.from({ length: 200_000 }, (_, i) => i % 253);
    await new LocalStorage(root).put('f', data);
    for (const syncReadMaxBytes of [0, 1 << 20]) {
      const store = new LocalStorage(root, { syncReadMaxBytes });
      expect(Buffer.compare(await store.getRange('f', 150_000, 50_000), data.subarray(150_000))).toBe(0);
      await expect(store.getRange('f', 150_000, 50_001)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.getRange('nope', 0, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('returns arrays with their own buffers', async () => {
    const store = new LocalStorage(path.join(tmp, 'own'));
    await store.put(
      'f',
      Uint8Array.from({ length: 64 }, (_, i) => i),
    );
    const part = await store.getRange('f', 8, 8);
    expect(part.byteOffset).toBe(0);
    expect(part.buffer.byteLength).toBe(8);
  });
});

describe('retry helpers', () => {
  it('bounds backoff by base * 2^(n-1) and the cap', () => {
    expect(backoffDelayMs(1, 100, 10_000, () => 0.999)).toBeLessThan(100);
    expect(backoffDelayMs(4, 100, 10_000, () => 0.999)).toBeLessThan(800);
    expect(backoffDelayMs(30, 100, 10_000, () => 0.999)).toBeLessThan(10_000);
    expect(backoffDelayMs(3, 100, 10_000, () => 0)).toBe(0);
  });

  it('retries only retryable errors and reports attempts', async () => {
    let calls = 0;
    const giveUp = (err: unknown, attempts: number, exhausted: boolean): Error =>
      Object.assign(new Error('gave up'), { attempts, exhausted, err });
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(new Error('transient'));
        },
        { maxAttempts: 4, retryBaseDelayMs: 0, isRetryable: () => true, giveUp },
      ),
    ).rejects.toMatchObject({ attempts: 4, exhausted: true });
    expect(calls).toBe(4);
    calls = 0;
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(new Error('permanent'));
        },
        { maxAttempts: 4, retryBaseDelayMs: 0, isRetryable: () => false, giveUp },
      ),
    ).rejects.toMatchObject({ attempts: 1, exhausted: false });
    expect(calls).toBe(1);
  });

  it('orders keys by code point like S3', () => {
    const keys = ['b', 'a/\u{1F600}', 'a/\uFFFD', 'a/z', 'A'];
    expect([...keys].sort(compareKeys)).toEqual(['A', 'a/z', 'a/\uFFFD', 'a/\u{1F600}', 'b']);
  });
});
