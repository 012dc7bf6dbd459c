import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { StrataError } from '../errors.js';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BASE_DELAY_MS, DEFAULT_RETRY_MAX_DELAY_MS } from './retry.js';

export const S3_CHECKSUM_MODES = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const;
export type S3ChecksumMode = (typeof S3_CHECKSUM_MODES)[number];

/**
 * Options of S3Storage. Unset options come from the standard AWS chain (env vars, ~/.aws/config,
 * instance roles) and these env vars: `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` (endpoint),
 * `STRATA_S3_FORCE_PATH_STYLE=1`, `STRATA_S3_CHECKSUM=WHEN_SUPPORTED|WHEN_REQUIRED`.
 */
export interface S3StorageOptions {
  /** AWS region. Default: AWS_REGION / AWS_DEFAULT_REGION / config file; 'us-east-1' when an endpoint is set. */
  readonly region?: string;
  /** Custom endpoint (MinIO, R2, a test server). Default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`). Default: STRATA_S3_FORCE_PATH_STYLE=1, else false. */
  readonly forcePathStyle?: boolean;
  /** Static credentials or a provider. Default: the AWS credential chain. */
  readonly credentials?: S3ClientConfig['credentials'];
  /**
   * When to send/validate checksums. Default: STRATA_S3_CHECKSUM, else WHEN_REQUIRED if an endpoint
   * is set (third-party S3s often reject the newer checksum headers), else WHEN_SUPPORTED.
   */
  readonly requestChecksumCalculation?: S3ChecksumMode;
  /** Attempts per request, including the first. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff base between attempts (exponential, full jitter). Default 100. */
  readonly retryBaseDelayMs?: number;
  /** Cap on one backoff wait. Default 10000. */
  readonly retryMaxDelayMs?: number;
  /** Time limit of one request attempt, body included. Default 30000. */
  readonly timeoutMs?: number;
  /** Max concurrent sockets to the endpoint. Default: the SDK's (50). */
  readonly maxSockets?: number;
  /** Keys per ListObjectsV2 page (1..1000). Default 1000. */
  readonly listPageSize?: number;
}

export interface ResolvedS3Options {
  readonly client: S3ClientConfig;
  readonly endpoint: string | undefined;
  readonly checksum: S3ChecksumMode;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly timeoutMs: number;
  readonly listPageSize: number;
}

/** Merges options with env defaults and builds the SDK client config (SDK retries off: we retry). */
export function resolveS3Options(
  options: S3StorageOptions,
  uri: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedS3Options {
  const endpoint = options.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const envChecksum = nonEmpty(env.STRATA_S3_CHECKSUM)?.toUpperCase();
  if (envChecksum !== undefined && !isChecksumMode(envChecksum)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `STRATA_S3_CHECKSUM="${env.STRATA_S3_CHECKSUM}" is not valid for ${uri}`,
      {
        uri,
        field: 'STRATA_S3_CHECKSUM',
        hint: `use one of ${S3_CHECKSUM_MODES.join(', ')}`,
      },
    );
  }
  const checksum = options.requestChecksumCalculation ?? envChecksum ?? (endpoint ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED');
  if (!isChecksumMode(checksum)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `requestChecksumCalculation "${String(checksum)}" is not valid for ${uri}`,
      {
        uri,
        field: 'requestChecksumCalculation',
        hint: `use one of ${S3_CHECKSUM_MODES.join(', ')}`,
      },
    );
  }
  const forcePathStyle = options.forcePathStyle ?? /^(1|true|yes)$/i.test(env.STRATA_S3_FORCE_PATH_STYLE ?? '');
  const region =
    options.region ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    (endpoint ? 'us-east-1' : undefined);
  const maxAttempts = positiveInt(options.maxAttempts, DEFAULT_MAX_ATTEMPTS, 'maxAttempts', uri);
  const timeoutMs = positiveInt(options.timeoutMs, 30_000, 'timeoutMs', uri);
  const agent =
    options.maxSockets === undefined
      ? undefined
      : { keepAlive: true, maxSockets: positiveInt(options.maxSockets, 50, 'maxSockets', uri) };
  const client: S3ClientConfig = {
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    forcePathStyle,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    maxAttempts: 1,
    ...(agent === undefined ? {} : { requestHandler: { httpAgent: agent, httpsAgent: agent } }),
  };
  return {
    client,
    endpoint,
    checksum,
    maxAttempts,
    retryBaseDelayMs: Math.max(0, options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS),
    retryMaxDelayMs: Math.max(0, options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS),
    timeoutMs,
    listPageSize: Math.min(1000, positiveInt(options.listPageSize, 1000, 'listPageSize', uri)),
  };
}

function isChecksumMode(value: string): value is S3ChecksumMode {
  return (S3_CHECKSUM_MODES as readonly string[]).includes(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function positiveInt(value: number | undefined, fallback: number, field: string, uri: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 1) {
    throw new StrataError('INVALID_ARGUMENT', `S3 option ${field}=${value} must be a positive number for ${uri}`, {
      uri,
      field,
    });
  }
  return Math.floor(value);
}
