/**
 * A loopback S3 for tests and benchmarks: s3rver (filesystem-backed fake S3) behind a small HTTP
 * proxy that adds what s3rver lacks and what tests need:
 *  - `If-None-Match: *` on PUT is enforced (s3rver ignores it), serialised per key so a race of
 *    conditional PUTs has exactly one winner; losers get 412 PreconditionFailed;
 *  - failure injection (5xx/429 XML errors or connection resets) for the next n requests or a window;
 *  - request/response byte counters (what a client really fetched).
 *
 *   const s3 = await startS3Server();
 *   const store = await openStorage(s3.uri('my/prefix'), { s3: s3.s3Options });
 *   ...
 *   await s3.stop();
 */
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { S3StorageOptions } from '../../src/storage/s3-options.js';

export interface S3ServerOptions {
  /** Bucket created at start. Default 'strata-test'. */
  readonly bucket?: string;
}

/** Counters of what went through the proxy (client-visible traffic). */
export interface S3ServerStats {
  requests: number;
  byMethod: Record<string, number>;
  /** Response body bytes sent to clients. */
  bytesOut: number;
  /** Request body bytes received from clients. */
  bytesIn: number;
  /** Requests answered by an injected failure. */
  injectedFailures: number;
  /** Conditional PUTs refused with 412. */
  preconditionFailures: number;
}

/**
 * An HTTP status to answer with (e.g. 500, 503, 429, 403), 'reset' to drop the connection before
 * serving, or 'lose-response' to serve the request (it takes effect) and then drop the connection.
 */
export type InjectedFailure = number | 'reset' | 'lose-response';

export interface S3TestServer {
  /** http://127.0.0.1:<port> of the proxy. */
  readonly endpoint: string;
  readonly bucket: string;
  /** Ready-to-use S3StorageOptions: endpoint, path style, us-east-1, dummy credentials, WHEN_REQUIRED. */
  readonly s3Options: S3StorageOptions;
  readonly stats: S3ServerStats;
  /** `s3://<bucket>/<prefix>`. */
  uri(prefix?: string): string;
  /** The next `n` requests fail with `status` (default 503). */
  failNext(n: number, status?: InjectedFailure): void;
  /** Every request fails with `status` (default 503) for the next `ms` milliseconds. */
  failForMs(ms: number, status?: InjectedFailure): void;
  /** The next `n` requests are held `ms` milliseconds before being served (timeout tests). */
  delayNext(n: number, ms: number): void;
  /** Cancels pending failures and delays. */
  clearFailures(): void;
  resetStats(): void;
  /** Idempotent: closes the proxy, s3rver and deletes the data directory. */
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  installDesShim();
  // The SDK warns once per process that it will need Node 22 from 2027; noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const bucket = options.bucket ?? 'strata-test';
  const directory = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-s3-'));
  const S3rver = require('s3rver') as S3rverCtor;
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const upstream = await s3rver.run();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const stats: S3ServerStats = {
    requests: 0,
    byMethod: {},
    bytesOut: 0,
    bytesIn: 0,
    injectedFailures: 0,
    preconditionFailures: 0,
  };
  let failCount = 0;
  let failCountStatus: InjectedFailure = 503;
  let failUntil = 0;
  let failUntilStatus: InjectedFailure = 503;
  let delayCount = 0;
  let delayMs = 0;
  const keyLocks = new Map<string, { lastWrite: Promise<void>; reads: Set<Promise<void>>; pending: number }>();

  const takeFailure = (): InjectedFailure | undefined => {
    if (failCount > 0) {
      failCount--;
      return failCountStatus;
    }
    return Date.now() < failUntil ? failUntilStatus : undefined;
  };

  /**
   * The whole request body, or undefined if the client went away first. s3rver stores whatever part
   * of an aborted upload it received; S3 never does, so bodies are only forwarded once complete.
   */
  const readRequestBody = (req: http.IncomingMessage): Promise<Buffer | undefined> =>
    new Promise((resolve) => {
      if (req.destroyed) return resolve(undefined);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => {
        stats.bytesIn += chunk.length;
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('close', () => {
        if (!req.complete) resolve(undefined);
      });
      req.on('error', () => resolve(undefined));
    });

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    loseResponse = false,
    write = false,
  ): Promise<number | undefined> =>
    new Promise((resolve) => {
      const headers = { ...req.headers };
      delete headers.expect; // unsigned in SigV4; the proxy already answered 100-continue
      const up = http.request(
        { host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers, agent },
        (upRes) => {
          if (req.headers.range !== undefined && /\/0\s*$/.test(String(upRes.headers['content-range'] ?? ''))) {
            // s3rver answers a range of an empty object with 206 and a body it never sends; S3 says 416.
            upRes.destroy();
            sendError(res, 416, req.method ?? 'GET');
            resolve(416);
            return;
          }
          if (loseResponse) {
            upRes.resume();
            upRes.on('end', () => {
              req.socket.destroy();
              resolve(upRes.statusCode);
            });
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.on('data', (chunk: Buffer) => {
            stats.bytesOut += chunk.length;
          });
          upRes.pipe(res);
          upRes.on('end', () => resolve(upRes.statusCode));
          upRes.on('error', () => resolve(undefined));
        },
      );
      up.on('error', () => {
        res.destroy();
        resolve(undefined);
      });
      res.on('close', () => {
        // S3 applies a write whose body it received even when the client then goes away
        if (!res.writableFinished && !write) up.destroy();
        resolve(undefined);
      });
      up.end(body);
    });

  /** The stored object's size, or undefined when it does not exist. */
  const objectSize = (urlPath: string): Promise<number | undefined> =>
    new Promise((resolve, reject) => {
      const head = http.request(
        { host: '127.0.0.1', port: upstream.port, method: 'HEAD', path: urlPath, agent },
        (r) => {
          r.resume();
          resolve(r.statusCode === 200 ? Number(r.headers['content-length']) : undefined);
        },
      );
      head.on('error', reject);
      head.end();
    });

  /**
   * Per-object readers-writer lock. s3rver writes an object in place (truncate, then stream the
   * bytes, then its metadata), so a GET or HEAD overlapping a PUT of the same key can see an empty
   * or partial object, and a HEAD then records a wrong ETag for good. S3 makes a PUT visible all at
   * once: here a write waits for the reads and writes before it, a read for the writes before it.
   */
  const withKeyLock = async <T>(key: string, mode: 'read' | 'write', fn: () => Promise<T>): Promise<T> => {
    let s = keyLocks.get(key);
    if (!s) keyLocks.set(key, (s = { lastWrite: Promise.resolve(), reads: new Set(), pending: 0 }));
    const state = s;
    state.pending++;
    const settled = (p: Promise<unknown>): Promise<void> =>
      p.then(
        () => undefined,
        () => undefined,
      );
    let result: Promise<T>;
    if (mode === 'read') {
      result = state.lastWrite.then(fn);
      const done = settled(result);
      state.reads.add(done);
      void done.then(() => state.reads.delete(done));
    } else {
      const before = Promise.all([state.lastWrite, ...state.reads]);
      result = before.then(fn);
      state.lastWrite = settled(result);
      state.reads = new Set();
    }
    try {
      return await result;
    } finally {
      if (--state.pending === 0) keyLocks.delete(key);
    }
  };

  /** Waits until s3rver's stored object is `length` bytes long (it answers a PUT before its data is flushed). */
  const awaitStored = async (urlPath: string, length: number): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const size = await objectSize(urlPath);
      if (size === length) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    stats.requests++;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
    const failure = takeFailure();
    if (failure !== undefined) {
      stats.injectedFailures++;
      if (failure === 'reset') {
        req.socket.destroy();
        return;
      }
      if (failure !== 'lose-response') {
        req.resume();
        return sendError(res, failure, method);
      }
    }
    if (delayCount > 0) {
      delayCount--;
      await new Promise((r) => setTimeout(r, delayMs));
      if (res.destroyed || req.socket.destroyed) return;
    }
    const body = await readRequestBody(req);
    if (body === undefined) return; // client gave up mid-request: nothing reaches s3rver
    const lose = failure === 'lose-response';
    const [urlPath, query = ''] = (req.url ?? '/').split('?');
    const part = /(^|&)(partNumber|uploadId)=/.test(query);
    const writes =
      (method === 'PUT' && !part) || method === 'DELETE' || (method === 'POST' && /(^|&)uploadId=/.test(query));
    if (!writes) {
      // multipart part uploads and bucket-level requests touch no object's visible state
      if (part || method === 'POST') await forward(req, res, body, lose);
      else await withKeyLock(urlPath, 'read', () => forward(req, res, body, lose));
      return;
    }
    await withKeyLock(urlPath, 'write', async () => {
      if (method === 'PUT' && req.headers['if-none-match'] === '*' && (await objectSize(urlPath)) !== undefined) {
        stats.preconditionFailures++;
        sendError(res, 412, method);
        return;
      }
      const status = await forward(req, res, body, lose, true);
      if (method === 'PUT' && status === 200) await awaitStored(urlPath, body.length);
    });
  };

  const proxy = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  proxy.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      agent.destroy();
      await s3rver.close().catch(() => undefined);
      await fsp.rm(directory, { recursive: true, force: true });
    })());

  return {
    endpoint,
    bucket,
    s3Options: {
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    },
    stats,
    uri: (prefix = '') => (prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`),
    failNext(n, status = 503) {
      failCount = n;
      failCountStatus = status;
    },
    failForMs(ms, status = 503) {
      failUntil = Date.now() + ms;
      failUntilStatus = status;
    },
    delayNext(n, ms) {
      delayCount = n;
      delayMs = ms;
    },
    clearFailures() {
      failCount = 0;
      failUntil = 0;
      delayCount = 0;
    },
    resetStats() {
      Object.assign(stats, {
        requests: 0,
        byMethod: {},
        bytesOut: 0,
        bytesIn: 0,
        injectedFailures: 0,
        preconditionFailures: 0,
      });
    },
    stop,
  };
}

const ERROR_CODES: Record<number, [string, string]> = {
  403: ['AccessDenied', 'Access Denied'],
  416: ['InvalidRange', 'The requested range is not satisfiable'],
  412: ['PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'],
  429: ['TooManyRequests', 'Please reduce your request rate'],
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  503: ['SlowDown', 'Please reduce your request rate.'],
};

function sendError(res: http.ServerResponse, status: number, method: string): void {
  const [code, message] = ERROR_CODES[status] ?? ['InternalError', `Injected HTTP ${status}`];
  const condition = status === 412 ? '<Condition>If-None-Match</Condition>' : '';
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `${condition}<RequestId>${crypto.randomBytes(8).toString('hex')}</RequestId></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': method === 'HEAD' ? 0 : Buffer.byteLength(body),
  });
  res.end(method === 'HEAD' ? undefined : body);
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES ('des'), which OpenSSL 3 (Node
 * 17+) only offers in its legacy provider, so paginated listings fail with ERR_OSSL_EVP_UNSUPPORTED.
 * 3DES-EDE with K1=K2=K3 computes exactly single DES, so 'des' is mapped to 'des-ede3-cbc' with the
 * key repeated three times. Only the 'des' algorithm is touched; installed once per process.
 */
function installDesShim(): void {
  const marker = Symbol.for('strata.test.desShim');
  const c = crypto as unknown as Record<string | symbol, unknown>;
  if (c[marker]) return;
  c[marker] = true;
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return; // legacy provider available: nothing to do
  } catch {
    // fall through
  }
  const origCipher = crypto.createCipheriv;
  const origDecipher = crypto.createDecipheriv;
  const triple = (key: crypto.CipherKey): Buffer => {
    const k = Buffer.from(key as Uint8Array);
    return Buffer.concat([k, k, k]);
  };
  c.createCipheriv = function (
    this: unknown,
    alg: string,
    key: crypto.CipherKey,
    iv: crypto.BinaryLike | null,
    opts?: unknown,
  ) {
    return alg === 'des'
      ? origCipher.call(crypto, 'des-ede3-cbc', triple(key), iv)
      : (origCipher as (...a: unknown[]) => unknown).call(crypto, alg, key, iv, opts);
  };
  c.createDecipheriv = function (
    this: unknown,
    alg: string,
    key: crypto.CipherKey,
    iv: crypto.BinaryLike | null,
    opts?: unknown,
  ) {
    return alg === 'des'
      ? origDecipher.call(crypto, 'des-ede3-cbc', triple(key), iv)
      : (origDecipher as (...a: unknown[]) => unknown).call(crypto, alg, key, iv, opts);
  };
}
