import { StrataError } from '../errors.js';

/** The ABORTED error for an operation on `key` in `uri`. */
export function abortedError(
  what: string,
  signal: AbortSignal | undefined,
  details: { uri?: string; key?: string } = {},
): StrataError {
  return new StrataError('ABORTED', `${what} was aborted`, { ...details, cause: signal?.reason });
}

/** Resolves after `ms`, or rejects with ABORTED as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal, what = 'wait'): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(what, signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(what, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, but rejects with ABORTED as soon as `signal` fires (the underlying work
 * continues; use this when the work is shared with other callers).
 */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
  details: { uri?: string; key?: string } = {},
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortedError(what, signal, details));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(what, signal, details));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}

/**
 * One attempt of a remote request with its own deadline: `run` gets a signal that fires on the
 * caller's `signal` (→ ABORTED) or after `timeoutMs` (→ TIMEOUT, which retry policies may retry).
 */
export async function withAttemptDeadline<T>(
  run: (attemptSignal: AbortSignal) => Promise<T>,
  options: {
    readonly signal: AbortSignal | undefined;
    readonly timeoutMs: number;
    readonly what: string;
    readonly details: { uri?: string; key?: string };
    /** Shrinks the cause kept on TIMEOUT errors (e.g. SDK errors carrying whole responses). */
    readonly cause?: (err: unknown) => unknown;
  },
): Promise<T> {
  const { signal, timeoutMs, what, details } = options;
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = (): void => ctl.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await run(ctl.signal);
  } catch (err) {
    if (signal?.aborted) throw abortedError(what, signal, details);
    if (timedOut)
      throw new StrataError('TIMEOUT', `${what} timed out after ${timeoutMs} ms`, {
        ...details,
        cause: options.cause ? options.cause(err) : err,
      });
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
