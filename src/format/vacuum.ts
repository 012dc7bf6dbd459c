import { throwIfAborted } from '../errors.js';
import type { Progress } from '../progress.js';
import type { Storage } from '../storage/storage.js';
import { chunkTimeMs } from './column-writer.js';
import { CHUNKS_PREFIX, versionKey } from './manifest.js';

/** Where derived objects such as vector indexes live; referenced by key from manifest meta. */
export const INDEXES_PREFIX = 'indexes/';
import type { DamagedVersion } from './versions.js';
import { readAllAnyManifests } from './version-list.js';
import { liveObjects } from './live-objects.js';
import { DELETIONS_PREFIX, FRAGMENTS_PREFIX, PAGES_PREFIX, objectTimeMs } from './object-keys.js';

export interface VacuumOptions {
  /**
   * Versions younger than this are kept, and so are unreferenced chunks and temporary files
   * younger than this (a writer may still be committing them). Default 7 days.
   */
  readonly retentionMs?: number;
  /** Report what would be deleted without deleting. */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  /** Deletions so far (phase `vacuum`, unit `objects`). */
  readonly onProgress?: (p: Progress) => void;
}

export interface VacuumResult {
  readonly versionsDeleted: number[];
  readonly chunksDeleted: number;
  /** Temporary files of killed writers (local `.tmp-*`) older than the retention window. */
  readonly tempFilesDeleted: number;
  /**
   * Versions whose manifest could not be read (CORRUPT or UNSUPPORTED, naming the version). They
   * are left in place, and while any exists no chunk or index object is deleted, since the damaged
   * manifest may reference it; old readable versions and temporary files are still removed.
   */
  readonly damagedVersions: DamagedVersion[];
  /** Bytes of deleted chunks, indexes and temporary files. */
  readonly bytesFreed: number;
}

/**
 * Deletes versions older than the retention window (never the latest), then chunk objects no
 * remaining version references and older than the window (Lance's cleanup, not Deep Lake's locks).
 * A damaged manifest does not stop it: it is reported in `damagedVersions`, kept, and blocks only
 * the deletion of chunks and indexes (see VacuumResult).
 */
export async function vacuum(storage: Storage, options: VacuumOptions = {}): Promise<VacuumResult> {
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
  const cutoff = Date.now() - retentionMs;
  const reads = await readAllAnyManifests(storage, options.signal);
  const latest = reads[reads.length - 1]?.version;
  const manifests = reads.flatMap((r) => (r.manifest ? [r.manifest] : []));
  const damaged: DamagedVersion[] = reads.flatMap((r) => (r.error ? [{ version: r.version, error: r.error }] : []));
  const doomed = manifests.filter((m) => m.version !== latest && m.timestampMs < cutoff).map((m) => m.version);
  const kept = manifests.filter((m) => !doomed.includes(m.version));
  // Chunks, fragment files and pages of every kept version (v1 and v2).
  const live = await liveObjects(storage, kept, options.signal);
  for (const v of doomed) {
    throwIfAborted(options.signal, 'vacuum');
    if (!options.dryRun) await storage.delete(versionKey(v));
  }
  // Other objects a manifest can reference (e.g. vector indexes under indexes/) are named in its meta.
  for (const m of kept) collectKeys(m.meta, live);
  const keys = [
    ...(await storage.list(CHUNKS_PREFIX, { signal: options.signal })),
    ...(await storage.list(INDEXES_PREFIX, { signal: options.signal })),
    ...(await storage.list(FRAGMENTS_PREFIX, { signal: options.signal })),
    ...(await storage.list(PAGES_PREFIX, { signal: options.signal })),
    ...(await storage.list(DELETIONS_PREFIX, { signal: options.signal })),
  ];
  // An unreferenced index built for a version older than every kept version can no longer be
  // published; a newer one may belong to a createIndex still committing.
  const oldestKept = Math.min(...kept.map((m) => m.version));
  const isGarbage = (k: string): boolean => {
    if (live.has(k)) return false;
    if (k.startsWith(CHUNKS_PREFIX)) return (chunkTimeMs(k) ?? 0) < cutoff;
    // an unreferenced fragment, page or deletion file younger than the window may belong to a commit in progress
    if (k.startsWith(FRAGMENTS_PREFIX) || k.startsWith(PAGES_PREFIX) || k.startsWith(DELETIONS_PREFIX))
      return (objectTimeMs(k) ?? Infinity) < cutoff;
    const built = /-v(\d+)-[0-9a-f]+\.[a-z]+$/.exec(k);
    return built !== null && Number(built[1]) < oldestKept;
  };
  // A damaged manifest may reference any chunk or index: delete none until it is restored or removed.
  const garbage = damaged.length > 0 ? [] : keys.filter(isGarbage);
  let bytesFreed = 0;
  let deleted = 0;
  for (const k of garbage) {
    throwIfAborted(options.signal, 'vacuum');
    bytesFreed += (await storage.size(k)) ?? 0;
    if (!options.dryRun) await storage.delete(k);
    options.onProgress?.({ phase: 'vacuum', done: ++deleted, total: garbage.length, unit: 'objects' });
  }
  // A writer killed between writing a temp file and renaming it leaves the temp file behind.
  const temps = (await storage.sweepTemporaries?.(cutoff, { signal: options.signal, dryRun: options.dryRun })) ?? {
    files: 0,
    bytes: 0,
  };
  return {
    versionsDeleted: doomed,
    chunksDeleted: garbage.length,
    tempFilesDeleted: temps.files,
    damagedVersions: damaged,
    bytesFreed: bytesFreed + temps.bytes,
  };
}

/** Every string under `value` that names an object below `indexes/`. */
function collectKeys(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.startsWith(INDEXES_PREFIX)) into.add(value);
  } else if (Array.isArray(value)) for (const v of value) collectKeys(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectKeys(v, into);
}
