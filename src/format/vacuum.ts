import { throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { chunkTimeMs } from './column-writer.js';
import { CHUNKS_PREFIX, versionKey } from './manifest.js';
import { listVersionNumbers, readManifest } from './versions.js';

export interface VacuumOptions {
  /** Versions younger than this are kept, and so are unreferenced chunks younger than this (a writer may still be committing them). Default 7 days. */
  readonly retentionMs?: number;
  /** Report what would be deleted without deleting. */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { deleted: number; total: number }) => void;
}

export interface VacuumResult {
  readonly versionsDeleted: number[];
  readonly chunksDeleted: number;
  readonly bytesFreed: number;
}

/**
 * Deletes versions older than the retention window (never the latest), then chunk objects no
 * remaining version references and older than the window (Lance's cleanup, not Deep Lake's locks).
 */
export async function vacuum(storage: Storage, options: VacuumOptions = {}): Promise<VacuumResult> {
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
  const cutoff = Date.now() - retentionMs;
  const numbers = await listVersionNumbers(storage, options.signal);
  const latest = numbers[numbers.length - 1];
  const manifests = await Promise.all(numbers.map((v) => readManifest(storage, v, options.signal)));
  const doomed = manifests.filter((m) => m.version !== latest && m.timestampMs < cutoff).map((m) => m.version);
  const kept = manifests.filter((m) => !doomed.includes(m.version));
  const live = new Set<string>();
  for (const m of kept) for (const c of m.columns) for (const ch of c.chunks) live.add(ch.key);
  for (const v of doomed) {
    throwIfAborted(options.signal, 'vacuum');
    if (!options.dryRun) await storage.delete(versionKey(v));
  }
  const keys = await storage.list(CHUNKS_PREFIX, { signal: options.signal });
  const garbage = keys.filter((k) => !live.has(k) && (chunkTimeMs(k) ?? 0) < cutoff);
  let bytesFreed = 0;
  let deleted = 0;
  for (const k of garbage) {
    throwIfAborted(options.signal, 'vacuum');
    bytesFreed += (await storage.size(k)) ?? 0;
    if (!options.dryRun) await storage.delete(k);
    options.onProgress?.({ deleted: ++deleted, total: garbage.length });
  }
  return { versionsDeleted: doomed, chunksDeleted: garbage.length, bytesFreed };
}
