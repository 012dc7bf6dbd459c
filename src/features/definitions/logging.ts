/**
 * The `logging:` setting of `strata.yaml`: where the feature server logs a sample of the values it
 * serves (the online layer's FeatureLogger reads it; docs/MONITORING.md).
 *
 *   logging:
 *     dataset: logs/served.strata     # relative to the repo, or a URI (s3://…)
 *     sample_rate: 0.01
 *     flush_interval_ms: 5000
 */
import { isAbsolute, resolve } from 'node:path';
import type { Issues } from './issues.js';

export interface RepoLoggingSettings {
  /** Dataset URI of the served-feature log (relative paths resolve against the repo directory). */
  readonly dataset: string;
  /** Fraction of requests logged, 0 to 1. Default 1. */
  readonly sampleRate?: number;
  /** Append once this many rows are buffered. Default 10000. */
  readonly flushRows?: number;
  /** Append what is buffered at least this often. Default 5000 (each append is one commit). */
  readonly flushIntervalMs?: number;
}

const KEYS = ['dataset', 'sampleRate', 'flushRows', 'flushIntervalMs'];

/** Validates the parsed `logging` value (camelCase keys); problems go to `issues`. */
export function parseLoggingSetting(
  value: unknown,
  dir: string,
  at: object,
  file: string,
  issues: Issues,
): RepoLoggingSettings | undefined {
  const add = (field: string, message: string, hint: string) => issues.add(at, file, `logging.${field}`, message, hint);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    add('dataset', 'logging must be a mapping', 'e.g. logging: { dataset: logs/served.strata, sample_rate: 0.01 }');
    return undefined;
  }
  const v = value as Record<string, unknown>;
  let ok = true;
  for (const k of Object.keys(v)) {
    if (!KEYS.includes(k)) {
      add(k, `unknown logging setting ${k}`, 'use dataset, sample_rate, flush_rows or flush_interval_ms');
      ok = false;
    }
  }
  if (typeof v.dataset !== 'string' || v.dataset === '') {
    add('dataset', 'logging.dataset must name the log dataset', 'e.g. dataset: logs/served.strata');
    return undefined;
  }
  if (v.sampleRate !== undefined && !(typeof v.sampleRate === 'number' && v.sampleRate >= 0 && v.sampleRate <= 1)) {
    add('sample_rate', 'sample_rate must be a number from 0 to 1', 'e.g. sample_rate: 0.01 logs 1% of requests');
    ok = false;
  }
  for (const k of ['flushRows', 'flushIntervalMs'] as const) {
    const n = v[k];
    if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n > 0)) {
      add(k, `${k} must be a positive integer`, 'e.g. flush_interval_ms: 1000');
      ok = false;
    }
  }
  if (!ok) return undefined;
  const isUri = /^[a-z][a-z0-9+.-]*:\/\//i.test(v.dataset);
  return {
    dataset: isUri || isAbsolute(v.dataset) ? v.dataset : resolve(dir, v.dataset),
    ...(v.sampleRate !== undefined ? { sampleRate: v.sampleRate as number } : {}),
    ...(v.flushRows !== undefined ? { flushRows: v.flushRows as number } : {}),
    ...(v.flushIntervalMs !== undefined ? { flushIntervalMs: v.flushIntervalMs as number } : {}),
  };
}
