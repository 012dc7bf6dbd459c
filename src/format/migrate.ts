import type { Storage } from '../storage/storage.js';
import { commitActions } from './commit.js';
import { encodeFragment } from './fragment.js';
import { readLatestAnyManifest } from './latest.js';
import { type AnyManifest, isV2 } from './manifest-v2.js';
import { withMigratedStats } from './migrate-stats.js';
import { newFragmentKey } from './object-keys.js';
import { VersionReader } from './version-reader.js';

export interface MigrateOptions {
  /** Identifies the writer in the manifest. */
  readonly writer: string;
  readonly maxCommitAttempts?: number;
  readonly commitTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface MigrateResult {
  /** The latest manifest after the call. */
  readonly manifest: AnyManifest;
  /** False when the latest version was already format v2 (nothing was written). */
  readonly migrated: boolean;
}

/**
 * Upgrades a dataset whose latest version is format v1: publishes a v2 manifest whose fragment 0
 * references the v1 chunks (one fragment file is written; no chunk is copied; the chunks of scalar
 * columns are read for their statistics). A no-op on v2.
 */
export async function migrateToV2(storage: Storage, options: MigrateOptions): Promise<MigrateResult> {
  const latest = await readLatestAnyManifest(storage, options.signal);
  if (isV2(latest)) return { manifest: latest, migrated: false };
  const reader = new VersionReader(storage, latest);
  const v1 = await withMigratedStats(storage, reader.v1Fragment!, reader.schema, options.signal);
  const key = newFragmentKey();
  await storage.put(key, encodeFragment(v1), { signal: options.signal, contentType: 'application/json' });
  const manifest = await commitActions(storage, latest, [{ type: 'migrate', key }], {
    writer: options.writer,
    message: 'migrate to format v2',
    columnsWithData: new Set(),
    refill: () => Promise.reject(new Error('a migration commits no fills')),
    maxCommitAttempts: options.maxCommitAttempts,
    commitTimeoutMs: options.commitTimeoutMs,
    signal: options.signal,
  });
  return { manifest, migrated: true };
}
