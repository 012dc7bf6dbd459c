/**
 * Settings the CLI takes from the environment. S3 options are read by the storage layer itself
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN / AWS_PROFILE, AWS_REGION,
 * AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, STRATA_S3_FORCE_PATH_STYLE=1, STRATA_S3_CHECKSUM);
 * this file adds the CLI's own knobs and validates them once, up front.
 */
import type { OpenOptions } from '../dataset/dataset.js';
import { StrataError } from '../errors.js';
import { resolveS3Options } from '../storage/s3-options.js';

export const ENV_HELP = [
  'Environment:',
  '  S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION,',
  '      AWS_ENDPOINT_URL_S3 (MinIO, R2, ...), STRATA_S3_FORCE_PATH_STYLE=1, STRATA_S3_CHECKSUM=WHEN_REQUIRED',
  '  STRATA_CACHE_BYTES  read cache in front of remote storage (default 268435456)',
  '  embed/ingest shard (--shard): JOB_COMPLETION_INDEX + STRATA_SHARDS (Kubernetes Indexed Job),',
  '      AWS_BATCH_JOB_ARRAY_INDEX + AWS_BATCH_JOB_ARRAY_SIZE (AWS Batch array job)',
];

/** Options for `Dataset.open` from the environment. */
export function openOptions(uri: string, env: NodeJS.ProcessEnv = process.env): OpenOptions {
  if (uri.startsWith('s3://')) resolveS3Options({}, uri, env); // bad STRATA_S3_* values fail before any request
  const raw = env.STRATA_CACHE_BYTES;
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new StrataError('INVALID_ARGUMENT', `STRATA_CACHE_BYTES="${raw}" is not a byte count`, {
      field: 'STRATA_CACHE_BYTES',
      hint: 'use a non-negative integer, e.g. 268435456',
    });
  }
  return { cacheBytes: n };
}
