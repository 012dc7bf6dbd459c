import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpStorage } from '../../src/storage/http.js';

/** A tiny static file server with Range support and switchable misbehaviour. */
const files = new Map<string, Uint8Array>([
  ['/files/a.bin', Uint8Array.from({ length: 100 }, (_, i) => i)],
  ['/files/sub dir/b c.txt', new TextEncoder().encode('spaces')],
  ['/files/empty', new Uint8Array(0)],
  ['/single.jpg', Uint8Array.of(0xff, 0xd8, 0xff)],
]);
let server: http.Server;
let base = '';
let ignoreRange = false;
let failNext = 0;
const seen: Array<{ method: string; url: string; range?: string; auth?: string }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      range: req.headers.range,
      auth: req.headers.authorization,
    });
    if (failNext > 0) {
      failNext--;
      res.writeHead(503).end('busy');
      return;
    }
    if (url.pathname === '/private/x') {
      res.writeHead(403).end();
      return;
    }
    const body = files.get(decodeURIComponent(url.pathname));
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (m && !ignoreRange) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      const end = Math.min(Number(m[2]), body.length - 1);
      res.writeHead(206, {
        'content-range': `bytes ${start}-${end}/${body.length}`,
        'content-length': end - start + 1,
      });
      res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  ignoreRange = false;
  failNext = 0;
  seen.length = 0;
});

describe('HttpStorage', () => {
  it('gets whole files and ranges via the Range header', async () => {
    const store = new HttpStorage(`${base}/files`);
    expect((await store.get('a.bin')).length).toBe(100);
    expect(Array.from(await store.getRange('a.bin', 95, 5))).toEqual([95, 96, 97, 98, 99]);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', range: 'bytes=95-99' });
    expect((await store.getRange('a.bin', 100, 0)).length).toBe(0);
    await expect(store.getRange('a.bin', 98, 5)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.getRange('a.bin', 200, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(store.stats.rangeGets).toBeGreaterThanOrEqual(1);
  });

  it('slices locally when the server ignores Range', async () => {
    ignoreRange = true;
    const store = new HttpStorage(`${base}/files/`);
    expect(Array.from(await store.getRange('a.bin', 10, 3))).toEqual([10, 11, 12]);
    await expect(store.getRange('a.bin', 99, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('sizes via HEAD and maps 404 to NOT_FOUND / undefined', async () => {
    const store = new HttpStorage(`${base}/files`);
    expect(await store.size('a.bin')).toBe(100);
    expect(seen.at(-1)?.method).toBe('HEAD');
    expect(await store.size('empty')).toBe(0);
    expect(await store.size('nope')).toBeUndefined();
    expect(await store.exists('a.bin')).toBe(true);
    await expect(store.get('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', details: { key: 'nope' } });
    await expect(store.getRange('nope', 0, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('encodes key segments and fetches the base URL itself for the empty key', async () => {
    const dir = new HttpStorage(`${base}/files`);
    expect(new TextDecoder().decode(await dir.get('sub dir/b c.txt'))).toBe('spaces');
    const single = new HttpStorage(`${base}/single.jpg`);
    expect(Array.from(await single.get(''))).toEqual([0xff, 0xd8, 0xff]);
  });

  it('retries 5xx, sends configured headers, maps 403 to UNAUTHORIZED', async () => {
    const store = new HttpStorage(base, { retryBaseDelayMs: 1, headers: { authorization: 'Bearer t' } });
    failNext = 2;
    expect((await store.get('files/a.bin')).length).toBe(100);
    expect(store.stats.retries).toBe(2);
    expect(seen.every((s) => s.auth === 'Bearer t')).toBe(true);
    await expect(store.get('private/x')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('is read-only and cannot list', async () => {
    const store = new HttpStorage(base);
    await expect(store.put('x', new Uint8Array(1))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(store.putIfAbsent('x', new Uint8Array(1))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(store.delete('x')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(store.list('')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('reports an unreachable server as IO and honours abort', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const dead = new HttpStorage(`http://127.0.0.1:${port}/x`, { maxAttempts: 2, retryBaseDelayMs: 1 });
    await expect(dead.get('y')).rejects.toMatchObject({ code: 'IO', details: { attempts: 2 } });
    const store = new HttpStorage(base);
    await expect(store.get('files/a.bin', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(() => new HttpStorage('ftp://x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
