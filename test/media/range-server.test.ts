import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  closeRangeServer,
  configureRangeServer,
  rangeServerRunning,
  registerByteSource,
  type ByteSource,
} from '../../src/media/index.js';
import { bufferSource } from '../helpers/media.js';

const data = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);

afterEach(() => configureRangeServer({ idleCloseMs: 2_000 }));
afterAll(() => closeRangeServer());

async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(url, { headers, method });
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

describe('range server', () => {
  it('serves HEAD, full GET and closed ranges', async () => {
    const reg = await registerByteSource(bufferSource(data));
    expect(reg.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/[0-9a-f]{32}$/);
    const head = await get(reg.url, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    expect(head.body.length).toBe(0);

    const full = await get(reg.url);
    expect(full.status).toBe(200);
    expect(Buffer.from(full.body).equals(Buffer.from(data))).toBe(true);

    const mid = await get(reg.url, { Range: 'bytes=1000-1999' });
    expect(mid.status).toBe(206);
    expect(mid.headers.get('content-range')).toBe(`bytes 1000-1999/${data.length}`);
    expect(Buffer.from(mid.body).equals(Buffer.from(data.subarray(1000, 2000)))).toBe(true);

    const suffix = await get(reg.url, { Range: 'bytes=-10' });
    expect(suffix.status).toBe(206);
    expect(Buffer.from(suffix.body).equals(Buffer.from(data.subarray(data.length - 10)))).toBe(true);

    const past = await get(reg.url, { Range: 'bytes=0-99999999' });
    expect(past.headers.get('content-range')).toBe(`bytes 0-${data.length - 1}/${data.length}`);
    reg.release();
  });

  it('answers open-ended ranges in windows that grow while reading sequentially and reset on a seek', async () => {
    const reg = await registerByteSource(bufferSource(data), { firstWindowBytes: 10_000, maxWindowBytes: 40_000 });
    const a = await get(reg.url, { Range: 'bytes=0-' });
    expect(a.status).toBe(206);
    expect(a.headers.get('content-range')).toBe(`bytes 0-9999/${data.length}`);
    const b = await get(reg.url, { Range: 'bytes=10000-' });
    expect(b.headers.get('content-range')).toBe(`bytes 10000-29999/${data.length}`);
    const c = await get(reg.url, { Range: 'bytes=30000-' });
    expect(c.headers.get('content-range')).toBe(`bytes 30000-69999/${data.length}`);
    const d = await get(reg.url, { Range: 'bytes=70000-' });
    expect(d.headers.get('content-range')).toBe(`bytes 70000-109999/${data.length}`); // capped at max
    const seek = await get(reg.url, { Range: 'bytes=200000-' });
    expect(seek.headers.get('content-range')).toBe(`bytes 200000-209999/${data.length}`);
    expect(Buffer.from(seek.body).equals(Buffer.from(data.subarray(200000, 210000)))).toBe(true);
    const unbounded = await registerByteSource(bufferSource(data), { maxWindowBytes: Infinity });
    expect((await get(unbounded.url, { Range: 'bytes=5-' })).body.length).toBe(data.length - 5);
    reg.release();
    unbounded.release();
  });

  it('streams lazily: a client that stops early does not make the server read the whole source', async () => {
    const big = new Uint8Array(64 * 1024 * 1024);
    const src = bufferSource(big);
    const reg = await registerByteSource(src, { blockSizeBytes: 64 * 1024 });
    const res = await fetch(reg.url); // full 200 body, 64 MiB
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 50));
    expect(src.stats.bytesRead).toBeLessThan(big.length / 2);
    reg.release();
  });

  it('answers 416, 404 and 405 where due; multi-range requests get the whole body', async () => {
    const reg = await registerByteSource(bufferSource(data));
    const bad = await get(reg.url, { Range: `bytes=${data.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${data.length}`);
    expect((await get(reg.url, { Range: 'bytes=0-1,5-6' })).status).toBe(200);
    expect((await get(reg.url, {}, 'POST')).status).toBe(405);
    expect((await get(reg.url.replace(/[0-9a-f]{32}$/, '0'.repeat(32)))).status).toBe(404);
    reg.release();
    reg.release(); // idempotent
    expect((await get(reg.url)).status).toBe(404);
  });

  it('serves an empty source', async () => {
    const reg = await registerByteSource(bufferSource(new Uint8Array(0)));
    const res = await get(reg.url);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect((await get(reg.url, { Range: 'bytes=0-' })).status).toBe(416);
    reg.release();
  });

  it('cuts the body and records the error when the source fails', async () => {
    const failing: ByteSource = {
      size: 1_000_000,
      read(offset) {
        if (offset > 0) return Promise.reject(new Error('disk on fire'));
        return Promise.resolve(new Uint8Array(256 * 1024));
      },
    };
    const reg = await registerByteSource(failing);
    await expect(get(reg.url)).rejects.toThrow();
    expect(String(reg.lastError)).toContain('disk on fire');
    expect(reg.stats.requests).toBe(1);
    reg.release();
  });

  it('rejects invalid sources and options', async () => {
    await expect(registerByteSource({ size: -1, read: () => Promise.resolve(new Uint8Array()) })).rejects.toMatchObject(
      {
        code: 'INVALID_ARGUMENT',
      },
    );
    await expect(registerByteSource(bufferSource(data), { blockSizeBytes: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('closes once idle and restarts on demand', async () => {
    configureRangeServer({ idleCloseMs: 20 });
    const reg = await registerByteSource(bufferSource(data));
    expect(rangeServerRunning()).toBe(true);
    reg.release();
    await new Promise((r) => setTimeout(r, 100));
    expect(rangeServerRunning()).toBe(false);
    const again = await registerByteSource(bufferSource(data));
    expect((await get(again.url, { Range: 'bytes=0-9' })).body.length).toBe(10);
    again.release();
  });

  it('never keeps the process alive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-range-'));
    try {
      const script = join(dir, 'hold.mts');
      const server = fileURLToPath(new URL('../../src/media/range-server.ts', import.meta.url));
      await writeFile(
        script,
        [
          `import { registerByteSource } from ${JSON.stringify(server)};`,
          `const reg = await registerByteSource({ size: 10, read: async (o, l) => new Uint8Array(l) });`,
          `const res = await fetch(reg.url, { headers: { Range: 'bytes=0-3' } });`,
          `await res.arrayBuffer();`,
          `console.log('registered', res.status);`,
        ].join('\n'),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: process.cwd(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(null);
        }, 20_000);
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(out).toContain('registered 206');
      expect(code).toBe(0); // exited by itself with a URL still registered
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
