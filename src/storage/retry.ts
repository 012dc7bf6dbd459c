import { isStrataError } from '../errors.js';
import { abortedError, sleep } from './abort.js';

export interface RetryOptions {
  /** Total attempts including the first. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff base: before retry n (1-based) wait random(0, min(max, base * 2^(n-1))) ms. Default 100. */
  readonly retryBaseDelayMs?: number;
  /** Cap on one backoff wait. Default 10000. */
  readonly retryMaxDelayMs?: number;
  /** Abort stops waiting and retrying at once (ABORTED). */
  readonly signal?: AbortSignal;
  /** Names the operation in the ABORTED message. */
  readonly what?: string;
  /** True when a failed attempt may be retried (transient). */
  readonly isRetryable: (err: unknown) => boolean;
  /** Observes each retry before its backoff wait. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /**
   * Builds the error to throw when giving up: after a non-retryable error (`exhausted` false) or
   * after the last attempt (`exhausted` true). `attempts` is the number of attempts made.
   */
  readonly giveUp: (err: unknown, attempts: number, exhausted: boolean) => Error;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_RETRY_BASE_DELAY_MS = 100;
export const DEFAULT_RETRY_MAX_DELAY_MS = 10_000;

/** Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(cap, base*2^(n-1))). */
export function backoffDelayMs(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `op` up to `maxAttempts` times, retrying only errors that `isRetryable` accepts, with
 * exponential backoff and full jitter between attempts. `op` receives the 1-based attempt number.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
  const base = Math.max(0, options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS);
  const cap = Math.max(0, options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS);
  const { signal } = options;
  const what = options.what ?? 'request';
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(what, signal);
    try {
      return await op(attempt);
    } catch (err) {
      if (isStrataError(err, 'ABORTED')) throw err;
      if (signal?.aborted) throw abortedError(what, signal);
      if (!options.isRetryable(err)) throw options.giveUp(err, attempt, false);
      if (attempt >= maxAttempts) throw options.giveUp(err, attempt, true);
      const delayMs = backoffDelayMs(attempt, base, cap);
      options.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, signal, what);
    }
  }
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * True for transient transport failures: connection refused/reset, socket hang up, DNS retry,
 * timeouts. Looks through `cause` chains (fetch wraps the socket error).
 */
export function isNetworkError(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return true;
    if (name === 'TimeoutError') return true;
    if (typeof message === 'string' && /socket hang up|other side closed|ECONNRESET|ECONNREFUSED/i.test(message))
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** HTTP statuses worth retrying: 5xx, 429 Too Many Requests, 408 Request Timeout. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status !== undefined && (status >= 500 || status === 429 || status === 408);
}
