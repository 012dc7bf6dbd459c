/**
 * The one interface every online store implements (embedded SQLite, Redis).
 *
 * Rules every implementation keeps (the conformance suite in test/online checks them):
 * - a row is the values of one view for one entity key, stamped with its event time and with the
 *   wall-clock time the store wrote it (`writtenAtMs`, read back with `withWriteTime`);
 * - writes are idempotent and ordered by event time: a write replaces the stored row only when its
 *   event timestamp is >= the stored one (Feast's `_ts` rule), so an older event never overwrites a newer value;
 * - reads return rows in the order of the keys asked for, `null` for keys never written (or expired).
 */
import { StrataError } from '../errors.js';
import type { EntityKey } from './keys.js';

export type { EntityKey } from './keys.js';

/** One row to write. `values` holds the view's features by name. */
export interface OnlineWriteRow {
  readonly view: string;
  readonly entityKey: EntityKey;
  readonly values: Readonly<Record<string, unknown>>;
  /** Event time of the values, epoch milliseconds. */
  readonly eventTimestampMs: number;
}

export interface OnlineWriteResult {
  /** Rows stored (new, newer or same event time). */
  readonly written: number;
  /** Rows ignored because the store already held a newer event. */
  readonly skipped: number;
}

/** A stored row. */
export interface OnlineRecord {
  readonly values: Record<string, unknown>;
  readonly eventTimestampMs: number;
  /**
   * Wall-clock time the store wrote the row, epoch ms; only when read with `withWriteTime` (NaN for
   * rows written before the store kept write times).
   */
  readonly writtenAtMs?: number;
}

/** A stored row with its entity key, as returned by `scan`. */
export interface OnlineScanRow extends OnlineRecord {
  readonly entityKey: Record<string, unknown>;
}

/**
 * A view's watermarks in the store: the newest event time and the newest write time of any row
 * written to it, kept at write time (no scan). Rows that expire or are deleted do not lower them;
 * `deleteView`/`clear` reset them.
 */
export interface OnlineWatermark {
  readonly view: string;
  /** Largest event timestamp written, epoch ms. */
  readonly eventTimestampMs: number;
  /** Wall-clock time of the latest write, epoch ms. */
  readonly writtenAtMs: number;
}

export interface OnlineStoreHealth {
  readonly ok: boolean;
  readonly kind: string;
  readonly latencyMs?: number;
  readonly error?: string;
}

export interface OnlineReadOptions {
  /** Decode only these features (others are left out of `values`). Default: all stored features. */
  readonly features?: readonly string[];
  /** Also return each row's write time (`writtenAtMs`). Default false. */
  readonly withWriteTime?: boolean;
}

export interface OnlineScanOptions {
  /** Rows per yielded batch. Default 1000. */
  readonly batchRows?: number;
  /** Also return each row's write time (`writtenAtMs`). Default false. */
  readonly withWriteTime?: boolean;
  readonly signal?: AbortSignal;
}

export interface OnlineStore extends AsyncDisposable {
  /** `sqlite`, `redis`, … */
  readonly kind: string;
  /** Writes a batch atomically per row (SQLite: one transaction per batch). */
  write(rows: readonly OnlineWriteRow[], options?: { readonly signal?: AbortSignal }): Promise<OnlineWriteResult>;
  /** Reads many entity keys of one view; `null` where nothing is stored. */
  read(view: string, entityKeys: readonly EntityKey[], options?: OnlineReadOptions): Promise<(OnlineRecord | null)[]>;
  /** Optional: the same as `read`, synchronously, for stores that never wait on I/O (embedded). */
  readSync?(view: string, entityKeys: readonly EntityKey[], options?: OnlineReadOptions): (OnlineRecord | null)[];
  /** Every stored row of a view, in batches (order unspecified). */
  scan(view: string, options?: OnlineScanOptions): AsyncIterable<OnlineScanRow[]>;
  /** Removes every row of a view (and its materialization state). */
  deleteView(view: string): Promise<void>;
  /** Removes everything this store holds for the project. */
  clear(): Promise<void>;
  /**
   * Event-time and write-time watermarks per view (all views written to, or only `views`); views never
   * written are absent. Reads a few keys, never the rows.
   */
  watermarks(views?: readonly string[]): Promise<OnlineWatermark[]>;
  /** Small string state kept next to the data (materialization watermarks). */
  getState(key: string): Promise<string | undefined>;
  setState(key: string, value: string): Promise<void>;
  /** Never throws: reports whether the backing store answers. */
  health(): Promise<OnlineStoreHealth>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Validates an event timestamp (finite epoch ms) of a row of `view`. */
export function checkTimestamp(ts: number, view: string): number {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    throw new StrataError('INVALID_ARGUMENT', `event timestamp of a ${view} row must be finite epoch milliseconds`, {
      field: 'eventTimestampMs',
      key: view,
      hint: `got ${String(ts)}`,
    });
  }
  return ts;
}
