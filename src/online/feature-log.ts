/**
 * Served-feature logging: a sample of `getOnlineFeatures` answers written to a Strata dataset, one row
 * per (request, entity row, feature), so the log is versioned, queryable with `ds.sql` and usable as
 * the entity rows of a training set (log, then backfill from the logs; see docs/MONITORING.md).
 *
 * Off the request path: `log()` only keeps a reference to the answer; rows are built and appended in
 * batches (every `flushRows` rows or `flushIntervalMs`, and on `close()`), one commit per batch.
 */
import { randomUUID } from 'node:crypto';
import { Dataset } from '../dataset/dataset.js';
import type { OpenOptions } from '../dataset/dataset.js';
import { StrataError } from '../errors.js';
import type { OnlineFeatures } from './result.js';

/** Logging settings, as in the repo's `strata.yaml` (`logging:`) or the server's `logging` option. */
export interface FeatureLoggingOptions {
  /** Dataset URI of the log (created on first use; a path, `file://`, `s3://`, `memory://`). */
  readonly dataset: string;
  /** Fraction of requests logged, 0 to 1. Default 1. */
  readonly sampleRate?: number;
  /** Append once this many rows are buffered. Default 10000. */
  readonly flushRows?: number;
  /** Append what is buffered at least this often. Default 5000 (each append is one commit). */
  readonly flushIntervalMs?: number;
  /** Rows buffered at most while appends lag behind; requests beyond are not logged (counted in `dropped`). Default 1000000. */
  readonly maxBufferedRows?: number;
  /** Called when an append fails (its rows are lost; the count is in `stats.flushErrors`). */
  readonly onFlushError?: (err: Error) => void;
  /** Storage options of the log dataset (credentials, cache). */
  readonly storage?: Omit<OpenOptions, 'version' | 'tag' | 'branch'>;
}

/** The log's columns (one row per request × entity row × feature). */
export const FEATURE_LOG_SCHEMA = {
  request_id: 'text',
  /** Request time, epoch ms (the TTL reference time, and the point-in-time of the offline comparison). */
  request_time_ms: 'int64',
  /** Entity row within the request. */
  row: 'int32',
  /** The request's join keys for this row, e.g. `{"user_id": 7}`. */
  entity: 'json',
  /** `view:feature`. */
  feature: 'text',
  /** The value served (null unless PRESENT). */
  value: 'json',
  /** The value as a number when it is a numeric scalar (for SQL), else null. */
  value_number: 'float64',
  status: 'text',
  /** Event time of the value served, epoch ms; null when NOT_FOUND. */
  event_time_ms: 'int64',
} as const;

export interface FeatureLogStats {
  /** Requests sampled and accepted into the buffer. */
  readonly requests: number;
  /** Rows appended (committed). */
  readonly rowsWritten: number;
  /** Rows waiting for the next append. */
  readonly rowsBuffered: number;
  /** Requests sampled but not logged because the buffer was full. */
  readonly dropped: number;
  /** Appends that failed (their rows are lost); the last error is `lastError`. */
  readonly flushErrors: number;
  readonly lastError?: Error;
}

interface Pending {
  readonly result: OnlineFeatures;
  readonly requestId: string;
  readonly requestTimeMs: number;
}

function checkOptions(o: FeatureLoggingOptions): void {
  const bad = (field: string, hint: string) =>
    new StrataError('INVALID_ARGUMENT', `logging.${field} is invalid`, { field: `logging.${field}`, hint });
  if (typeof o.dataset !== 'string' || o.dataset === '') throw bad('dataset', 'give the URI of the log dataset');
  const rate = o.sampleRate ?? 1;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw bad('sampleRate', 'use a number from 0 to 1');
  for (const k of ['flushRows', 'flushIntervalMs', 'maxBufferedRows'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v <= 0))
      throw bad(k, 'use a positive integer');
  }
}

/** JSON-safe form of a served value: bigints as numbers (text beyond 2^53), vectors as arrays, dates as ms. */
export function loggedValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v instanceof Date) return v.getTime();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, loggedValue);
  if (Array.isArray(v)) return v.map(loggedValue);
  return v;
}

export class FeatureLogger implements AsyncDisposable {
  readonly uri: string;
  readonly sampleRate: number;
  readonly #ds: Dataset;
  readonly #flushRows: number;
  readonly #maxRows: number;
  readonly #timer: NodeJS.Timeout;
  readonly #onError: ((err: Error) => void) | undefined;
  #pending: Pending[] = [];
  #pendingRows = 0;
  #writing: Promise<void> = Promise.resolve();
  #requests = 0;
  #written = 0;
  #dropped = 0;
  #errors = 0;
  #lastError: Error | undefined;
  #closed: Promise<void> | undefined;

  private constructor(ds: Dataset, options: FeatureLoggingOptions) {
    this.#ds = ds;
    this.uri = options.dataset;
    this.sampleRate = options.sampleRate ?? 1;
    this.#flushRows = options.flushRows ?? 10_000;
    this.#maxRows = options.maxBufferedRows ?? 1_000_000;
    this.#onError = options.onFlushError;
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 5000);
    this.#timer.unref();
  }

  /** Opens the log dataset at `options.dataset`, creating it with {@link FEATURE_LOG_SCHEMA} if absent. */
  static async open(options: FeatureLoggingOptions): Promise<FeatureLogger> {
    checkOptions(options);
    const ds = await Dataset.create(options.dataset, {
      ...(options.storage ?? {}),
      schema: FEATURE_LOG_SCHEMA,
      ifExists: 'open',
    });
    const missing = Object.keys(FEATURE_LOG_SCHEMA).filter((c) => !ds.hasColumn(c));
    if (missing.length) {
      throw new StrataError('INVALID_ARGUMENT', `dataset ${options.dataset} is not a feature log`, {
        uri: options.dataset,
        column: missing[0],
        hint: 'point logging.dataset at a new URI (the log is created there)',
      });
    }
    return new FeatureLogger(ds, options);
  }

  /** True for the requests to log (a `sampleRate` fraction of calls, at random). */
  sample(): boolean {
    return this.#closed === undefined && (this.sampleRate >= 1 || Math.random() < this.sampleRate);
  }

  /** Buffers one answer (cheap: rows are built at flush time). The caller must not mutate `result`. */
  log(result: OnlineFeatures, meta: { readonly requestTimeMs: number; readonly requestId?: string }): void {
    if (this.#closed !== undefined) return;
    const rows = result.rowCount * result.columns.length;
    if (this.#pendingRows + rows > this.#maxRows) {
      this.#dropped++;
      return;
    }
    this.#requests++;
    this.#pending.push({ result, requestId: meta.requestId ?? randomUUID(), requestTimeMs: meta.requestTimeMs });
    this.#pendingRows += rows;
    if (this.#pendingRows >= this.#flushRows) void this.flush();
  }

  get stats(): FeatureLogStats {
    const s = {
      requests: this.#requests,
      rowsWritten: this.#written,
      rowsBuffered: this.#pendingRows,
      dropped: this.#dropped,
      flushErrors: this.#errors,
    };
    return this.#lastError ? { ...s, lastError: this.#lastError } : s;
  }

  /** Appends and commits what is buffered (after any append under way). Never rejects: failures count in `stats`. */
  flush(): Promise<void> {
    if (this.#pending.length === 0) return this.#writing;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingRows = 0;
    this.#writing = this.#writing.then(async () => {
      try {
        const rows = toRows(batch);
        await this.#ds.append(rows);
        await this.#ds.commit(`feature log: ${batch.length} requests`);
        this.#written += rows.length;
      } catch (err) {
        this.#errors++;
        const e = err instanceof Error ? err : new Error(String(err));
        this.#lastError = e;
        await this.#ds.rollback().catch(() => undefined);
        try {
          this.#onError?.(e);
        } catch {
          // a throwing callback must not break the next flushes
        }
      }
    });
    return this.#writing;
  }

  /** Flushes what is buffered and stops the timer. Idempotent. Later `log()` calls are ignored. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#timer);
      await this.flush();
      await this.#ds.close();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function toRows(batch: readonly Pending[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const p of batch) {
    const r = p.result;
    const keys = Object.entries(r.entities);
    for (let i = 0; i < r.rowCount; i++) {
      const entity: Record<string, unknown> = {};
      for (const [k, v] of keys) entity[k] = loggedValue(v[i]);
      for (const c of r.columns) {
        const status = c.statuses[i];
        const value = status === 'PRESENT' ? loggedValue(c.values[i]) : null;
        rows.push({
          request_id: p.requestId,
          request_time_ms: p.requestTimeMs,
          row: i,
          entity,
          feature: c.ref,
          value,
          value_number: typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null,
          status,
          event_time_ms: status === 'NOT_FOUND' ? null : c.eventTimestampsMs[i],
        });
      }
    }
  }
  return rows;
}
