import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { S3Storage } from '../../src/storage/s3.js';
import { resolveS3Options } from '../../src/storage/s3-options.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

let s3: S3TestServer;
let n = 0;

/** A store on a fresh prefix with fast retries (tests must not wait for real backoff). */
function open(options: ConstructorParameters<typeof S3Storage>[1] = {}): S3Storage {
  return new S3Storage(s3.uri(`faults/t${++n}`), {
    ...s3.s3Options,
    retryBaseDelayMs: 2,
    retryMaxDelayMs: 20,
    ...options,
  });
}

beforeAll(async () => {
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3.stop();
});

beforeEach(() => {
  s3.clearFailures();
  s3.resetStats();
});

const data = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('S3Storage retries and failures', () => {
  it('retries 500s and succeeds, counting retries', async () => {
    const store = open();
    s3.failNext(3, 500);
    await store.put('k', data('hello'));
    expect(store.stats.retries).toBe(3);
    expect(store.stats.puts).toBe(4);
    expect(new TextDecoder().decode(await store.get('k'))).toBe('hello');
    await store.close();
  });

  it('rides out a window of 503 SlowDown', async () => {
    const store = open({ maxAttempts: 200, retryBaseDelayMs: 5, retryMaxDelayMs: 25 });
    await store.put('w', data('window'));
    s3.failForMs(250, 503);
    expect(new TextDecoder().decode(await store.get('w'))).toBe('window');
    expect(store.stats.retries).toBeGreaterThan(0);
    await store.close();
  });

  it('retries 429 and connection resets', async () => {
    const store = open();
    s3.failNext(1, 429);
    await store.put('a', data('a'));
    s3.failNext(2, 'reset');
    expect(new TextDecoder().decode(await store.get('a'))).toBe('a');
    expect(store.stats.retries).toBe(3);
    await store.close();
  });

  it('does not retry other 4xx (403 → UNAUTHORIZED after one request)', async () => {
    const store = open();
    s3.failNext(5, 403);
    await expect(store.get('x')).rejects.toMatchObject({ code: 'UNAUTHORIZED', details: { attempts: 1 } });
    expect(s3.stats.requests).toBe(1);
    await store.close();
  });

  it('gives up with IO naming uri, key and attempts; no object is left behind', async () => {
    const store = open({ maxAttempts: 3 });
    s3.failNext(100, 503);
    await expect(store.put('never', data('x'))).rejects.toMatchObject({
      code: 'IO',
      details: { uri: store.uri, key: 'never', attempts: 3 },
    });
    s3.failNext(100, 'reset');
    await expect(store.putIfAbsent('never', data('x'))).rejects.toMatchObject({ code: 'IO', details: { attempts: 3 } });
    s3.clearFailures();
    expect(await store.exists('never')).toBe(false);
    expect(await store.list('')).toEqual([]);
    await store.close();
  });

  it('times out a stalled request and retries it', async () => {
    const store = open({ timeoutMs: 400 });
    await store.put('slow', data('slow'));
    s3.delayNext(1, 3000);
    expect(new TextDecoder().decode(await store.get('slow'))).toBe('slow');
    expect(store.stats.retries).toBe(1);
    await store.close();
  });

  it('putIfAbsent whose response was lost is recognised as our own write on retry', async () => {
    const store = open();
    s3.failNext(1, 'lose-response');
    await store.putIfAbsent('commit', data('mine'));
    expect(store.stats.retries).toBe(1);
    await expect(store.putIfAbsent('commit', data('other'))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(new TextDecoder().decode(await store.get('commit'))).toBe('mine');
    await store.close();
  });

  it('an upload aborted midway leaves no object', async () => {
    const store = open();
    s3.delayNext(1, 400); // the proxy sits on the request while the client sends its body
    const ctl = new AbortController();
    const upload = store.put('partial', new Uint8Array(8 * 1024 * 1024).fill(1), { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    await expect(upload).rejects.toMatchObject({ code: 'ABORTED' });
    await new Promise((r) => setTimeout(r, 500)); // let the proxy finish its delay
    expect(await store.exists('partial')).toBe(false);
    await store.close();
  });

  it('fails fast with IO when the server is gone', async () => {
    const gone = await startS3Server();
    const store = new S3Storage(gone.uri('x'), {
      ...gone.s3Options,
      maxAttempts: 3,
      retryBaseDelayMs: 1,
      retryMaxDelayMs: 5,
    });
    await store.put('before', data('1'));
    await gone.stop();
    await gone.stop();
    await expect(store.get('before')).rejects.toMatchObject({ code: 'IO', details: { attempts: 3, key: 'before' } });
    await expect(store.put('after', data('2'))).rejects.toMatchObject({ code: 'IO' });
    await expect(store.list('')).rejects.toMatchObject({ code: 'IO' });
    await store.close();
  });

  it('aborts an in-flight request and a backoff wait with ABORTED', async () => {
    const store = open({ retryBaseDelayMs: 5000, retryMaxDelayMs: 5000 });
    await store.put('ab', data('x'));
    s3.delayNext(1, 2000);
    const ctl = new AbortController();
    const pending = store.get('ab', { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 30);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    s3.clearFailures();

    s3.failNext(100, 503);
    // Full jitter draws the wait uniformly below its 5-s ceiling: about one draw in a hundred would
    // end before the abort at 50 ms and let a second attempt through. Pin the draw near the ceiling.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.99);
    try {
      const ctl2 = new AbortController();
      const waiting = store.get('ab', { signal: ctl2.signal });
      setTimeout(() => ctl2.abort(), 50);
      await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
      // Only the first attempt was made: abort stopped the (~5-s) backoff wait.
      expect(s3.stats.injectedFailures).toBe(1);
    } finally {
      random.mockRestore();
    }
    await store.close();
  });
});

describe('S3Storage requests', () => {
  it('lists across pages', async () => {
    const store = open({ listPageSize: 10 });
    const keys = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => store.put(k, data(k))));
    await store.put('q', data('q'));
    expect(await store.list('p/')).toEqual(keys);
    expect(store.stats.lists).toBe(3);
    await store.close();
  });

  it('fetches only the requested bytes for ranges and counts them', async () => {
    const store = open();
    const big = new Uint8Array(1 << 20).fill(7);
    await store.put('big', big);
    s3.resetStats();
    const part = await store.getRange('big', 1000, 4096);
    expect(part.length).toBe(4096);
    expect(s3.stats.bytesOut).toBe(4096);
    expect(s3.stats.requests).toBe(1);
    expect(store.stats.bytesRead).toBe(4096);
    await store.close();
  });

  it('does not see objects outside its prefix', async () => {
    const a = new S3Storage(s3.uri('iso/a'), s3.s3Options);
    const ab = new S3Storage(s3.uri('iso/ab'), s3.s3Options);
    await a.put('x', data('a'));
    await ab.put('y', data('ab'));
    expect(await a.list('')).toEqual(['x']);
    expect(await ab.list('')).toEqual(['y']);
    await a.close();
    await ab.close();
  });

  it('reports a missing bucket as NOT_FOUND', async () => {
    const store = new S3Storage('s3://no-such-bucket/x', s3.s3Options);
    await expect(store.get('k')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.close();
  });
});

describe('S3 options', () => {
  it('defaults checksums by endpoint and reads env overrides', () => {
    expect(resolveS3Options({}, 's3://b', {}).checksum).toBe('WHEN_SUPPORTED');
    expect(resolveS3Options({}, 's3://b', { AWS_ENDPOINT_URL_S3: 'http://minio:9000' })).toMatchObject({
      checksum: 'WHEN_REQUIRED',
      endpoint: 'http://minio:9000',
      client: { region: 'us-east-1', maxAttempts: 1 },
    });
    expect(resolveS3Options({}, 's3://b', { AWS_ENDPOINT_URL: 'http://e' }).endpoint).toBe('http://e');
    expect(resolveS3Options({}, 's3://b', { STRATA_S3_CHECKSUM: 'when_required' }).checksum).toBe('WHEN_REQUIRED');
    expect(
      resolveS3Options({ requestChecksumCalculation: 'WHEN_SUPPORTED' }, 's3://b', { AWS_ENDPOINT_URL: 'http://e' })
        .checksum,
    ).toBe('WHEN_SUPPORTED');
    expect(resolveS3Options({}, 's3://b', { STRATA_S3_FORCE_PATH_STYLE: '1' }).client.forcePathStyle).toBe(true);
    expect(resolveS3Options({}, 's3://b', {}).client.forcePathStyle).toBe(false);
    expect(resolveS3Options({}, 's3://b', {})).toMatchObject({
      maxAttempts: 5,
      retryBaseDelayMs: 100,
      timeoutMs: 30000,
    });
  });

  it('rejects bad option values with INVALID_ARGUMENT', () => {
    expect(() => resolveS3Options({}, 's3://b', { STRATA_S3_CHECKSUM: 'sometimes' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => resolveS3Options({ maxAttempts: 0 }, 's3://b', {})).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new S3Storage('s3:///nobucket')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
