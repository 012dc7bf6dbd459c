/**
 * The messages between `startWorker` (start.ts) and `serveWorker` (serve.ts). A worker's protocol
 * is an interface of methods, each taking one structured-cloneable argument and returning (or
 * resolving to) one structured-cloneable value: `interface KernelMethods { run(a: RunArgs): void }`.
 */
import { inspect } from 'node:util';
import { ERROR_CODES, StrataError, type ErrorCode } from '../errors.js';

/** The constraint on a protocol interface `P`: every member is a one-argument method. */
export type Methods<P> = { [M in keyof P]: (arg: never) => unknown };

/** Parent → worker. */
export type Inbound =
  | { readonly kind: 'call'; readonly id: number; readonly method: string; readonly arg: unknown }
  | { readonly kind: 'close' };

/** Worker → parent. */
export type Outbound =
  | { readonly kind: 'ready' }
  | { readonly kind: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'fail'; readonly id: number; readonly error: WireError };

/** An error thrown by a worker's method, in a form every thread can clone. */
export interface WireError {
  /** Set when the method threw a StrataError. */
  readonly code?: ErrorCode;
  /** The message without the hint StrataError appends. */
  readonly message: string;
  readonly stack?: string;
  /** The StrataError's details whose values are primitives (a cause travels as its message). */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { message: String(err) };
  if (!(err instanceof StrataError)) return { message: err.message, stack: err.stack };
  const details: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err.details)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') details[k] = v;
    else if (k === 'cause' && v !== undefined) details[k] = v instanceof Error ? v.message : inspect(v);
  }
  const hint = err.details.hint ? ` (${err.details.hint})` : '';
  const message = hint && err.message.endsWith(hint) ? err.message.slice(0, -hint.length) : err.message;
  return { code: err.code, message, stack: err.stack, details };
}

/**
 * The StrataError a caller sees: the worker's own StrataError (same code, message and details), or
 * for any other throw an UNAVAILABLE naming the worker, with the worker's stack in `cause`.
 */
export function fromWire(e: WireError, worker: string): StrataError {
  // the error as the worker threw it (its stack, and its own cause's message where it had one)
  const remote = new Error(e.message, e.details?.cause === undefined ? undefined : { cause: e.details.cause });
  if (e.stack) remote.stack = e.stack;
  if (e.code && (ERROR_CODES as readonly string[]).includes(e.code)) {
    return new StrataError(e.code, e.message, { ...e.details, cause: remote });
  }
  return new StrataError('UNAVAILABLE', `the ${worker} worker thread failed: ${e.message}`, {
    cause: remote,
    hint: 'this is a bug in Strata; the stack is in the cause',
  });
}
