import { StrataError, isStrataError } from '../errors.js';
import { isNetworkError, isRetryableStatus } from './retry.js';

/** S3 error names that are transient even when the status is not 5xx/429 (e.g. 400 RequestTimeout). */
const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

/** HTTP status of an SDK error, if a response was received. */
export function s3Status(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as SdkErrorShape;
  return e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
}

/** The S3 error code (`NoSuchKey`, `SlowDown`, ...) or the error's name. */
export function s3ErrorName(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as SdkErrorShape;
  return e.Code ?? e.name ?? 'Error';
}

/**
 * Retry policy for S3: 5xx, 429, 408, throttling names, our per-attempt TIMEOUT and network errors.
 * Never other 4xx (they will not get better by retrying).
 */
export function isRetryableS3Error(err: unknown): boolean {
  if (isStrataError(err)) return err.code === 'TIMEOUT';
  const status = s3Status(err);
  if (isRetryableStatus(status)) return true;
  if (TRANSIENT_NAMES.has(s3ErrorName(err))) return status === undefined || status === 400 || status === 503;
  if (status !== undefined) return false;
  return isNetworkError(err);
}

export interface FailureContext {
  readonly uri: string;
  readonly key?: string;
  /** e.g. 'get', 'put', 'list'. */
  readonly op: string;
}

/** Maps an SDK/transport error to a StrataError once we stop retrying. */
export function s3Failure(err: unknown, attempts: number, exhausted: boolean, ctx: FailureContext): StrataError {
  if (err instanceof StrataError && err.code !== 'TIMEOUT') return err;
  const { uri, key, op } = ctx;
  const target = key === undefined ? uri : `"${key}" in ${uri}`;
  const status = s3Status(err);
  const name = s3ErrorName(err);
  const base = { uri, ...(key === undefined ? {} : { key }), attempts, status, s3Code: name, cause: slimSdkError(err) };
  const describe = `${name}${status === undefined ? '' : ` (HTTP ${status})`}`;
  if (!exhausted) {
    if (name === 'NoSuchBucket') {
      return new StrataError('NOT_FOUND', `bucket of ${uri} does not exist (${op} of ${target})`, {
        ...base,
        hint: 'create the bucket or fix the s3:// URI',
      });
    }
    if (status === 404)
      return new StrataError('NOT_FOUND', `object ${target} not found`, { ...base, hint: 'check the key' });
    if (
      status === 401 ||
      status === 403 ||
      /credential/i.test(name) ||
      /Could not load credentials/i.test(messageOf(err))
    ) {
      return new StrataError('UNAUTHORIZED', `${op} of ${target} was denied: ${describe}`, {
        ...base,
        hint: 'check the credentials (AWS_PROFILE / AWS_ACCESS_KEY_ID) and the bucket policy',
      });
    }
    if (/Region is missing/i.test(messageOf(err))) {
      return new StrataError('INVALID_ARGUMENT', `no AWS region configured for ${uri}`, {
        ...base,
        hint: 'set AWS_REGION or pass { s3: { region } }',
      });
    }
  }
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return new StrataError('IO', `${op} of ${target} failed after ${tries}: ${describe}: ${messageOf(err)}`, {
    ...base,
    hint: exhausted
      ? 'check the endpoint, credentials and network (the service kept failing)'
      : 'check the endpoint, credentials and network',
  });
}

/**
 * SDK errors carry the raw HTTP response (socket, agent, ...), which makes logs and test output
 * unreadable. Keeps name, message, status, request id and network code; other errors pass through.
 */
export function slimSdkError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null || !('$metadata' in err || '$response' in err)) return err;
  const e = err as SdkErrorShape & { $metadata?: { requestId?: string } };
  const slim = new Error(`${s3ErrorName(err)}: ${messageOf(err)}`);
  slim.name = s3ErrorName(err);
  return Object.assign(slim, { status: s3Status(err), requestId: e.$metadata?.requestId });
}

function messageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    const msg = (err as { message: string }).message;
    return msg.length > 200 ? `${msg.slice(0, 200)}…` : msg;
  }
  return String(err);
}
