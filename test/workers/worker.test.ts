import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataError } from '../../src/errors.js';
import { startWorker } from '../../src/workers/start.js';
import type { EchoMethods } from './fixtures/echo-worker.js';

const ECHO = new URL('./fixtures/echo-worker.js', import.meta.url);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-workers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('worker threads (startWorker / serveWorker)', () => {
  it('answers typed calls in order, shares SharedArrayBuffers and moves transferred results', async () => {
    await using w = startWorker<EchoMethods>(ECHO, { name: 'echo', workerData: { n: 1 } });
    expect(await w.call('double', { values: [1, 2.5, -3] })).toEqual([2, 5, -6]);
    expect(await w.call('data', null)).toEqual({ n: 1 });
    expect(w.started).toBe(true);
    const order = await Promise.all([
      w.call('wait', { ms: 60, tag: 'a' }),
      w.call('wait', { ms: 0, tag: 'b' }),
      w.call('double', { values: [4] }),
    ]);
    expect(order).toEqual(['a', 'b', [8]]);
    const out = new Int32Array(new SharedArrayBuffer(16));
    const back = await w.call('fill', { out, value: 7 });
    expect(Array.from(out)).toEqual([7, 7, 7, 7]);
    expect(back).toBeInstanceOf(Float64Array);
    expect(Array.from(back)).toEqual([7, 7.5]);
  });

  it("a method's StrataError arrives with its code and details; any other throw as UNAVAILABLE; the worker lives on", async () => {
    await using w = startWorker<EchoMethods>(ECHO, { name: 'echo' });
    const err = await w.call('strata', { code: 'NOT_FOUND' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', details: { file: 't.csv', row: 7, hint: 'check the file' } });
    expect((err as StrataError).message).toBe('table t.csv has no row 7 (check the file)');
    await expect(w.call('strata', { code: 'CORRUPT' })).rejects.toMatchObject({ code: 'CORRUPT' });
    const crash = await w.call('crash', null).catch((e: unknown) => e);
    expect(crash).toMatchObject({ code: 'UNAVAILABLE' });
    expect(String((crash as StrataError).details.cause)).toContain('not a function');
    // an argument that cannot be cloned is refused here, before it reaches the worker
    await expect(w.call('double', { values: [() => 1] as unknown as number[] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await w.call('double', { values: [1] })).toEqual([2]);
  });

  it('a thread that dies rejects its calls and every later call with UNAVAILABLE', async () => {
    await using w = startWorker<EchoMethods>(ECHO, { name: 'echo' });
    await w.call('die', { afterMs: 50 });
    const pending = w.call('wait', { ms: 5000, tag: 'never' });
    await expect(pending).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(w.failed).toBe(true);
    await expect(w.call('double', { values: [1] })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a module that does not load rejects with UNAVAILABLE and reports that it never started', async () => {
    await using w = startWorker<EchoMethods>(new URL('./fixtures/no-such-worker.js', import.meta.url), {
      name: 'missing',
    });
    await expect(w.call('double', { values: [1] })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(w.started).toBe(false);
    expect(w.failed).toBe(true);
  });

  it('close lets the calls already sent finish, runs the close hook, is idempotent and refuses later calls', async () => {
    const file = join(dir, 'closed.txt');
    const w = startWorker<EchoMethods>(ECHO, { name: 'echo', workerData: file });
    const a = w.call('wait', { ms: 80, tag: 'a' });
    const b = w.call('wait', { ms: 10, tag: 'b' });
    const closed = w.close();
    expect(w.close()).toBe(closed);
    await closed;
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(await readFile(file, 'utf8')).toBe('2');
    await w.close();
    await expect(w.call('double', { values: [1] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
