/** Stable error codes: branch on these, never on message text. */
export const ERROR_CODES = [
  'NOT_FOUND',
  'CONFLICT',
  'CORRUPT',
  'INVALID_ARGUMENT',
  'IO',
  'ABORTED',
  'UNSUPPORTED',
  'TIMEOUT',
  'UNAVAILABLE',
  'UNAUTHORIZED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Structured context attached to every StrataError (all optional). */
export interface ErrorDetails {
  readonly uri?: string;
  readonly key?: string;
  readonly column?: string;
  readonly row?: number;
  readonly file?: string;
  readonly field?: string;
  readonly line?: number;
  /** What the caller can do about it. */
  readonly hint?: string;
  readonly cause?: unknown;
  readonly [extra: string]: unknown;
}

/**
 * The one error class Strata throws. `code` is stable; `details` names the object
 * (uri, key, column, row, file) and `hint` says what to do.
 */
export class StrataError extends Error {
  override readonly name = 'StrataError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    const text = details.hint ? `${message} (${details.hint})` : message;
    super(text, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.details = details;
  }

  /** One line for a terminal: `CODE: message (hint)`. */
  toLine(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isStrataError(err: unknown, code?: ErrorCode): err is StrataError {
  return err instanceof StrataError && (code === undefined || err.code === code);
}

/** Throws ABORTED if the signal has fired. Call at every await point of long work. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) {
    throw new StrataError('ABORTED', `${what} was aborted`, { cause: signal.reason });
  }
}
