import { StrataError } from '../errors.js';

/** The ABORTED error for an operation on `key` in `uri`. */
export function abortedError(what: string, signal: AbortSignal | undefined, details: { uri?: string; key?: string } = {}): StrataError {
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
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string, details: { uri?: string; key?: string } = {}): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortedError(what, signal, details));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(what, signal, details));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
