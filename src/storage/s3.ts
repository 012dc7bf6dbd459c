import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { StrataError } from '../errors.js';
import { withAttemptDeadline } from './abort.js';
import {
  assertOpen,
  conflict,
  dotSegment,
  notFound,
  rangePastEnd,
  sortKeys,
  validateKey,
  validatePrefix,
  validateRange,
} from './checks.js';
import { withRetry } from './retry.js';
import { isRetryableS3Error, s3ErrorName, s3Failure, s3Status, slimSdkError } from './s3-errors.js';
import { resolveS3Options, type ResolvedS3Options, type S3StorageOptions } from './s3-options.js';
import { joinKey, newStats, type ReadOptions, type Storage, type StorageStats, type WriteOptions } from './storage.js';

export { S3_CHECKSUM_MODES, type S3ChecksumMode, type S3StorageOptions } from './s3-options.js';

type Op = 'get' | 'getRange' | 'put' | 'putIfAbsent' | 'list' | 'delete' | 'size';

/**
 * Objects in `s3://bucket/prefix` via @aws-sdk/client-s3. The SDK's own retries are off: each
 * request is retried by `withRetry` (exponential backoff, full jitter) on 5xx, throttling,
 * timeouts and network errors, each attempt bounded by `timeoutMs`. `stats` counts HTTP requests.
 */
export class S3Storage implements Storage {
  readonly uri: string;
  readonly stats: StorageStats = newStats();
  readonly bucket: string;
  /** Key prefix below the bucket, without leading/trailing '/' ('' for the bucket root). */
  readonly prefix: string;
  /** The options in effect after env defaults (for diagnostics). */
  readonly resolved: ResolvedS3Options;
  private readonly client: S3Client;
  private closed = false;

  constructor(uri: string, options: S3StorageOptions = {}) {
    const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
    if (!m || !/^[a-zA-Z0-9._-]+$/.test(m[1])) {
      throw new StrataError('INVALID_ARGUMENT', `not an S3 URI: "${uri}"`, {
        uri,
        hint: 'use s3://bucket or s3://bucket/prefix',
      });
    }
    const dots = dotSegment(m[2] ?? '');
    if (dots !== undefined) {
      throw new StrataError('INVALID_ARGUMENT', `S3 URI "${uri}" has a "${dots}" path segment`, {
        uri,
        hint: 'a prefix may not contain . or .. segments (they would name objects outside it)',
      });
    }
    this.bucket = m[1];
    this.prefix = joinKey(m[2] ?? '');
    this.uri = this.prefix ? `s3://${this.bucket}/${this.prefix}` : `s3://${this.bucket}`;
    this.resolved = resolveS3Options(options, this.uri);
    this.client = new S3Client(this.resolved.client);
  }

  /** Opens `s3://bucket/prefix` (no request is made until first use). */
  static open(uri: string, options?: S3StorageOptions): Promise<S3Storage> {
    return Promise.resolve().then(() => new S3Storage(uri, options));
  }

  async get(key: string, options?: ReadOptions): Promise<Uint8Array> {
    this.check(key);
    return this.request('get', key, options?.signal, async (abortSignal) => {
      this.stats.gets++;
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
        abortSignal,
      });
      const bytes = await readBody(out.Body, out.ContentLength, abortSignal);
      this.stats.bytesRead += bytes.length;
      return bytes;
    });
  }

  async getRange(key: string, offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    validateRange(offset, length, key, this.uri);
    this.check(key);
    if (length === 0) {
      // An empty range cannot be expressed as `Range: bytes=a-b`; check the size instead.
      const size = await this.size(key, options);
      if (size === undefined) throw notFound(key, this.uri);
      if (offset > size) throw rangePastEnd(key, this.uri, offset, length, size);
      return new Uint8Array(0);
    }
    return this.request('getRange', key, options?.signal, async (abortSignal) => {
      this.stats.rangeGets++;
      let out;
      try {
        const range = `bytes=${offset}-${offset + length - 1}`;
        out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range: range }),
          { abortSignal },
        );
      } catch (err) {
        if (s3Status(err) === 416) throw rangePastEnd(key, this.uri, offset, length);
        throw err;
      }
      const bytes = await readBody(out.Body, out.ContentLength, abortSignal);
      this.stats.bytesRead += bytes.length;
      const total = totalFromContentRange(out.ContentRange);
      if (out.ContentRange === undefined) {
        // The server ignored Range and sent the whole object.
        if (offset + length > bytes.length) throw rangePastEnd(key, this.uri, offset, length, bytes.length);
        return bytes.slice(offset, offset + length);
      }
      if (bytes.length !== length) throw rangePastEnd(key, this.uri, offset, length, total ?? offset + bytes.length);
      return bytes;
    });
  }

  async put(key: string, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.check(key);
    await this.request('put', key, options?.signal, async (abortSignal) => {
      this.stats.puts++;
      await this.client.send(new PutObjectCommand(this.putInput(key, data, options)), { abortSignal });
      this.stats.bytesWritten += data.length;
    });
  }

  async putIfAbsent(key: string, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.check(key);
    await this.request('putIfAbsent', key, options?.signal, async (abortSignal, attempt) => {
      this.stats.puts++;
      try {
        await this.client.send(new PutObjectCommand({ ...this.putInput(key, data, options), IfNoneMatch: '*' }), {
          abortSignal,
        });
        this.stats.bytesWritten += data.length;
      } catch (err) {
        const status = s3Status(err);
        if (status !== 412 && status !== 409) throw err;
        // After a lost response, our own earlier attempt may be what now exists: compare ETags.
        if (attempt > 1 && (await this.etagOf(key, abortSignal)) === `"${md5Hex(data)}"`) return;
        throw conflict(key, this.uri, slimSdkError(err));
      }
    });
  }

  async list(prefix: string, options?: ReadOptions): Promise<string[]> {
    assertOpen(this.closed, this.uri);
    validatePrefix(prefix, this.uri);
    const root = this.prefix ? `${this.prefix}/` : '';
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.request('list', undefined, options?.signal, async (abortSignal) => {
        this.stats.lists++;
        const input = {
          Bucket: this.bucket,
          Prefix: root + prefix,
          ContinuationToken: token,
          MaxKeys: this.resolved.listPageSize,
        };
        return this.client.send(new ListObjectsV2Command(input), { abortSignal });
      });
      for (const obj of page.Contents ?? []) {
        const k = obj.Key;
        if (k !== undefined && k.startsWith(root) && !k.endsWith('/')) keys.push(k.slice(root.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return sortKeys(keys);
  }

  async delete(key: string, options?: WriteOptions): Promise<void> {
    this.check(key);
    await this.request('delete', key, options?.signal, async (abortSignal) => {
      this.stats.deletes++;
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
          abortSignal,
        });
      } catch (err) {
        if (s3Status(err) !== 404 || s3ErrorName(err) === 'NoSuchBucket') throw err;
      }
    });
  }

  async size(key: string, options?: ReadOptions): Promise<number | undefined> {
    this.check(key);
    return this.request('size', key, options?.signal, async (abortSignal) => {
      this.stats.heads++;
      try {
        const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
          abortSignal,
        });
        return out.ContentLength ?? 0;
      } catch (err) {
        if (s3Status(err) === 404 && s3ErrorName(err) !== 'NoSuchBucket') return undefined;
        throw err;
      }
    });
  }

  async exists(key: string, options?: ReadOptions): Promise<boolean> {
    return (await this.size(key, options)) !== undefined;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.client.destroy();
    }
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private objectKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private check(key: string): void {
    assertOpen(this.closed, this.uri);
    validateKey(key, this.uri);
  }

  private putInput(key: string, data: Uint8Array, options: WriteOptions | undefined) {
    return {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      Body: data,
      ContentLength: data.length,
      ...(options?.contentType === undefined ? {} : { ContentType: options.contentType }),
    };
  }

  private async etagOf(key: string, abortSignal: AbortSignal): Promise<string | undefined> {
    this.stats.heads++;
    const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
      abortSignal,
    });
    return out.ETag;
  }

  /**
   * One logical request: retried per policy; each attempt gets its own AbortController that fires
   * on the caller's signal (→ ABORTED, no retry) or after timeoutMs (→ TIMEOUT, retried).
   */
  private request<T>(
    op: Op,
    key: string | undefined,
    signal: AbortSignal | undefined,
    run: (abortSignal: AbortSignal, attempt: number) => Promise<T>,
  ): Promise<T> {
    const { maxAttempts, retryBaseDelayMs, retryMaxDelayMs, timeoutMs } = this.resolved;
    const target = key === undefined ? this.uri : `"${key}" in ${this.uri}`;
    const what = `${op} of ${target}`;
    return withRetry(
      (attempt) => {
        if (attempt > 1) this.stats.retries++;
        return withAttemptDeadline((attemptSignal) => run(attemptSignal, attempt), {
          signal,
          timeoutMs,
          what,
          details: { uri: this.uri, ...(key === undefined ? {} : { key }) },
          cause: slimSdkError,
        });
      },
      {
        maxAttempts,
        retryBaseDelayMs,
        retryMaxDelayMs,
        signal,
        what,
        isRetryable: isRetryableS3Error,
        giveUp: (err, attempts, exhausted) => s3Failure(err, attempts, exhausted, { uri: this.uri, key, op }),
      },
    );
  }
}

/** Reads a response body stream fully (preallocating when the length is known); abort destroys it. */
async function readBody(body: unknown, contentLength: number | undefined, signal: AbortSignal): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  const stream = body as AsyncIterable<Uint8Array> & { destroy?: (err?: Error) => void };
  const onAbort = (): void => stream.destroy?.(new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (contentLength !== undefined) {
      const out = new Uint8Array(contentLength);
      let at = 0;
      for await (const chunk of stream) {
        if (at + chunk.length > contentLength) throw new Error(`body longer than Content-Length ${contentLength}`);
        out.set(chunk, at);
        at += chunk.length;
      }
      if (at !== contentLength)
        throw Object.assign(new Error(`body ended after ${at} of ${contentLength} bytes`), { code: 'ECONNRESET' });
      return out;
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of stream) {
      chunks.push(chunk);
      total += chunk.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function totalFromContentRange(contentRange: string | undefined): number | undefined {
  const m = contentRange === undefined ? null : /\/(\d+)\s*$/.exec(contentRange);
  return m ? Number(m[1]) : undefined;
}

function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
