import { StrataError } from '../errors.js';
import { withAttemptDeadline } from './abort.js';
import { assertOpen, notFound, rangePastEnd, validateRange } from './checks.js';
import { isNetworkError, isRetryableStatus, withRetry } from './retry.js';
import { newStats, type ReadOptions, type Storage, type StorageStats, type WriteOptions } from './storage.js';

export interface HttpStorageOptions {
  /** Time limit of one request attempt, body included. Default 30000. */
  readonly timeoutMs?: number;
  /** Attempts per request (5xx, 429, 408 and network errors are retried). Default 3. */
  readonly maxAttempts?: number;
  /** Backoff base between attempts (exponential, full jitter). Default 100. */
  readonly retryBaseDelayMs?: number;
  /** Extra request headers (e.g. Authorization). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Thrown inside an attempt for a non-OK response; mapped once retries stop. */
class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * Read-only objects under an http(s) base URL (used by `link` columns): key `a/b.jpg` is fetched
 * from `<base>/a/b.jpg` (segments URL-encoded, the base's query string kept, so pre-signed URLs
 * work); the empty key '' fetches the base URL itself. Writes, delete and list throw UNSUPPORTED.
 */
export class HttpStorage implements Storage {
  readonly uri: string;
  readonly stats: StorageStats = newStats();
  private readonly base: URL;
  private readonly options: HttpStorageOptions;
  private closed = false;

  constructor(baseUrl: string, options: HttpStorageOptions = {}) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch (err) {
      throw new StrataError('INVALID_ARGUMENT', `not a URL: "${baseUrl}"`, {
        uri: baseUrl,
        cause: err,
        hint: 'use http(s)://host/path',
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StrataError('INVALID_ARGUMENT', `not an http(s) URL: "${baseUrl}"`, {
        uri: baseUrl,
        hint: 'use http(s)://host/path',
      });
    }
    this.base = url;
    this.uri = url.href;
    this.options = options;
  }

  static async open(baseUrl: string, options?: HttpStorageOptions): Promise<HttpStorage> {
    return new HttpStorage(baseUrl, options);
  }

  async get(key: string, options?: ReadOptions): Promise<Uint8Array> {
    const res = await this.fetch('get', key, 'GET', undefined, options?.signal);
    this.stats.gets++;
    this.stats.bytesRead += res.body.length;
    return res.body;
  }

  async getRange(key: string, offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    validateRange(offset, length, key, this.uri);
    if (length === 0) {
      const size = await this.size(key, options);
      if (size === undefined) throw notFound(key, this.uri);
      if (offset > size) throw rangePastEnd(key, this.uri, offset, length, size);
      return new Uint8Array(0);
    }
    const res = await this.fetch('getRange', key, 'GET', `bytes=${offset}-${offset + length - 1}`, options?.signal);
    this.stats.rangeGets++;
    this.stats.bytesRead += res.body.length;
    if (res.status === 416)
      throw rangePastEnd(key, this.uri, offset, length, totalOf(res.headers.get('content-range')));
    if (res.status === 200) {
      // The server ignored Range and sent the whole object.
      if (offset + length > res.body.length) throw rangePastEnd(key, this.uri, offset, length, res.body.length);
      return res.body.slice(offset, offset + length);
    }
    if (res.body.length !== length) {
      throw rangePastEnd(
        key,
        this.uri,
        offset,
        length,
        totalOf(res.headers.get('content-range')) ?? offset + res.body.length,
      );
    }
    return res.body;
  }

  async size(key: string, options?: ReadOptions): Promise<number | undefined> {
    try {
      const res = await this.fetch('size', key, 'HEAD', undefined, options?.signal);
      this.stats.heads++;
      const len = res.headers.get('content-length');
      if (len === null) {
        throw new StrataError('UNSUPPORTED', `${this.urlOf(key)} did not report a Content-Length`, {
          uri: this.uri,
          key,
        });
      }
      return Number(len);
    } catch (err) {
      if (err instanceof StrataError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async exists(key: string, options?: ReadOptions): Promise<boolean> {
    return (await this.size(key, options)) !== undefined;
  }

  put(key: string, _data?: Uint8Array, _options?: WriteOptions): Promise<void> {
    return Promise.reject(this.readOnly('put', key));
  }

  putIfAbsent(key: string, _data?: Uint8Array, _options?: WriteOptions): Promise<void> {
    return Promise.reject(this.readOnly('putIfAbsent', key));
  }

  delete(key: string, _options?: WriteOptions): Promise<void> {
    return Promise.reject(this.readOnly('delete', key));
  }

  list(_prefix?: string, _options?: ReadOptions): Promise<string[]> {
    return Promise.reject(
      new StrataError('UNSUPPORTED', `cannot list ${this.uri}: HTTP storage has no listing`, {
        uri: this.uri,
        hint: 'reference files by full URL',
      }),
    );
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The URL a key is fetched from. */
  urlOf(key: string): string {
    if (key === '') return this.base.href;
    const url = new URL(this.base.href);
    const dir = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    url.pathname = dir + key.split('/').map(encodeURIComponent).join('/');
    return url.href;
  }

  private readOnly(op: string, key: string): StrataError {
    return new StrataError('UNSUPPORTED', `cannot ${op} "${key}": ${this.uri} is read-only HTTP storage`, {
      uri: this.uri,
      key,
      hint: 'write to file://, s3:// or memory:// storage instead',
    });
  }

  private async fetch(
    op: string,
    key: string,
    method: 'GET' | 'HEAD',
    range: string | undefined,
    signal: AbortSignal | undefined,
  ) {
    assertOpen(this.closed, this.uri);
    if (
      typeof key !== 'string' ||
      key.startsWith('/') ||
      key.split('/').some((s, _, all) => s === '..' || (s === '' && all.length > 1))
    ) {
      throw new StrataError('INVALID_ARGUMENT', `invalid key "${key}" for ${this.uri}`, {
        uri: this.uri,
        key: String(key),
      });
    }
    const url = this.urlOf(key);
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const what = `${op} of ${url}`;
    return withRetry(
      (attempt) => {
        if (attempt > 1) this.stats.retries++;
        return withAttemptDeadline(
          async (attemptSignal) => {
            const headers: Record<string, string> = { ...this.options.headers };
            if (range !== undefined) headers.range = range;
            const res = await fetch(url, { method, headers, signal: attemptSignal });
            const body = method === 'HEAD' ? new Uint8Array(0) : new Uint8Array(await res.arrayBuffer());
            if (!res.ok && !(res.status === 416 && range !== undefined)) throw new HttpStatusError(res.status);
            return { status: res.status, headers: res.headers, body };
          },
          { signal, timeoutMs, what, details: { uri: this.uri, key } },
        );
      },
      {
        maxAttempts: this.options.maxAttempts ?? 3,
        retryBaseDelayMs: this.options.retryBaseDelayMs,
        signal,
        what,
        isRetryable: (err) =>
          err instanceof HttpStatusError
            ? isRetryableStatus(err.status)
            : err instanceof StrataError
              ? err.code === 'TIMEOUT'
              : isNetworkError(err),
        giveUp: (err, attempts) => this.failure(err, attempts, key, url),
      },
    );
  }

  private failure(err: unknown, attempts: number, key: string, url: string): StrataError {
    if (err instanceof StrataError && err.code !== 'TIMEOUT') return err;
    const status = err instanceof HttpStatusError ? err.status : undefined;
    const details = { uri: this.uri, key, url, attempts, status, cause: err };
    if (status === 404 || status === 410) return notFound(key, this.uri, err);
    if (status === 401 || status === 403) {
      return new StrataError('UNAUTHORIZED', `${url} answered HTTP ${status}`, {
        ...details,
        hint: 'pass credentials in { http: { headers } } or use a pre-signed URL',
      });
    }
    const why = status !== undefined ? `HTTP ${status}` : err instanceof Error ? err.message : String(err);
    return new StrataError('IO', `fetching ${url} failed after ${attempts} attempt(s): ${why}`, {
      ...details,
      hint: 'check the URL, the server and the network',
    });
  }
}

function totalOf(contentRange: string | null): number | undefined {
  const m = contentRange === null ? null : /\/(\d+)\s*$/.exec(contentRange);
  return m ? Number(m[1]) : undefined;
}
