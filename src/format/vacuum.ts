import { isStrataError, throwIfAborted } from '../errors.js';
import type { Progress } from '../progress.js';
import type { Storage } from '../storage/storage.js';
import { chunkTimeMs } from './column-writer.js';
import { CHUNKS_PREFIX } from './manifest.js';

/** Where derived objects such as vector indexes live; referenced by key from manifest meta. */
export const INDEXES_PREFIX = 'indexes/';
import type { DamagedVersion } from './versions.js';
import { readAllAnyManifests } from './version-list.js';
import { liveObjects } from './live-objects.js';
import type { AnyManifest, BranchOrigin } from './manifest-v2.js';
import { branchOrigin, listBranchNames } from './branches.js';
import { MAIN, type Ref, branchRef } from './refs.js';
import { listTags } from './tags.js';
import { stagedLive } from './staged-jobs.js';
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
  /** Versions of main deleted. */
  readonly versionsDeleted: number[];
  /** Versions of branches deleted. */
  readonly branchVersionsDeleted: { readonly branch: string; readonly version: number }[];
  readonly chunksDeleted: number;
  /** Temporary files of killed writers (local `.tmp-*`) older than the retention window. */
  readonly tempFilesDeleted: number;
  /**
   * Versions whose manifest could not be read (CORRUPT or UNSUPPORTED, naming the version). They
   * are left in place, and while any exists no chunk or index object is deleted, since the damaged
   * manifest may reference it; old readable versions and temporary files are still removed.
   */
  readonly damagedVersions: DamagedVersion[];
  /** Bytes of deleted manifests, chunks, fragment files, pages, indexes and temporary files. */
  readonly bytesFreed: number;
}

/**
 * Deletes versions older than the retention window, then every object no remaining version
 * references that is older than the window (Lance's cleanup, not Deep Lake's locks). Kept whatever
 * their age: the latest version of main, every tagged version, each branch's head and version 0
 * (its fork copy), and the version each branch forked from. Every other object's age is read from
 * its own key, so a tag on an old version never shields newer garbage (lance#8705). A damaged
 * manifest does not stop it: it is reported in `damagedVersions`, kept, and blocks only the
 * deletion of objects (see VacuumResult). A damaged tag stops it (CORRUPT naming the tag).
 */
export async function vacuum(storage: Storage, options: VacuumOptions = {}): Promise<VacuumResult> {
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
  const cutoff = Date.now() - retentionMs;
  const { signal } = options;
  const tags = await listTags(storage, signal);
  const refs: Ref[] = [MAIN, ...(await listBranchNames(storage, signal)).map(branchRef)];
  const pinned = new Map<string | null, Set<number>>(refs.map((r) => [r.branch, new Set<number>()]));
  for (const t of tags) pinned.get(t.branch)?.add(t.version);
  for (const r of refs) {
    if (r.branch === null) continue;
    pinned.get(r.branch)!.add(0);
    const origin = await originOf(storage, r.branch, signal);
    if (origin) pinned.get(origin.branch)?.add(origin.version);
  }
  const kept: AnyManifest[] = [];
  const keptMain: number[] = [];
  const damaged: DamagedVersion[] = [];
  const doomed: { ref: Ref; version: number }[] = [];
  for (const ref of refs) {
    const reads = await readAllAnyManifests(storage, signal, ref);
    const latest = reads[reads.length - 1]?.version;
    const keep = pinned.get(ref.branch)!;
    for (const r of reads) {
      if (r.error) damaged.push({ version: r.version, error: r.error });
      else if (r.version !== latest && !keep.has(r.version) && r.manifest.timestampMs < cutoff)
        doomed.push({ ref, version: r.version });
      else {
        kept.push(r.manifest);
        if (ref.branch === null) keptMain.push(r.version);
      }
    }
  }
  // Chunks, fragment files, pages and deletion files of every kept version (v1 and v2).
  const live = await liveObjects(storage, kept, signal);
  let bytesFreed = 0;
  for (const d of doomed) {
    throwIfAborted(signal, 'vacuum');
    bytesFreed += (await storage.size(d.ref.versionKey(d.version))) ?? 0;
    if (!options.dryRun) await storage.delete(d.ref.versionKey(d.version));
  }
  // A branch created meanwhile may copy a version just deleted (its creator re-checks the source
  // after publishing, so either it saw the deletion and gave up, or it is listed now): keep its objects.
  const known = new Set(refs.map((r) => r.branch));
  for (const late of await listBranchNames(storage, signal)) {
    if (known.has(late)) continue;
    const reads = await readAllAnyManifests(storage, signal, branchRef(late));
    for (const k of await liveObjects(
      storage,
      reads.flatMap((r) => (r.manifest ? [r.manifest] : [])),
      signal,
    ))
      live.add(k);
  }
  // Other objects a manifest can reference (e.g. vector indexes under indexes/) are named in its meta.
  for (const m of kept) collectKeys(m.meta, live);
  // Shards of a two-phase job staged within the window may still be committed: keep their objects.
  // Entries of jobs abandoned (or committed) before the window are deleted, and their objects with them.
  const staged = await stagedLive(storage, cutoff, signal);
  for (const k of staged.live) live.add(k);
  const keys = [
    ...(await storage.list(CHUNKS_PREFIX, { signal: options.signal })),
    ...(await storage.list(INDEXES_PREFIX, { signal: options.signal })),
    ...(await storage.list(FRAGMENTS_PREFIX, { signal: options.signal })),
    ...(await storage.list(PAGES_PREFIX, { signal: options.signal })),
    ...(await storage.list(DELETIONS_PREFIX, { signal: options.signal })),
  ];
  // An unreferenced index built for a version older than every kept version can no longer be
  // published; a newer one may belong to a createIndex still committing.
  const oldestKept = Math.min(...keptMain);
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
  let deleted = 0;
  for (const k of garbage) {
    throwIfAborted(options.signal, 'vacuum');
    bytesFreed += (await storage.size(k)) ?? 0;
    if (!options.dryRun) await storage.delete(k);
    options.onProgress?.({ phase: 'vacuum', done: ++deleted, total: garbage.length, unit: 'objects' });
  }
  for (const k of damaged.length > 0 ? [] : staged.expired) {
    throwIfAborted(options.signal, 'vacuum');
    bytesFreed += (await storage.size(k)) ?? 0;
    if (!options.dryRun) await storage.delete(k);
  }
  // A writer killed between writing a temp file and renaming it leaves the temp file behind.
  const temps = (await storage.sweepTemporaries?.(cutoff, { signal: options.signal, dryRun: options.dryRun })) ?? {
    files: 0,
    bytes: 0,
  };
  return {
    versionsDeleted: doomed.filter((d) => d.ref.branch === null).map((d) => d.version),
    branchVersionsDeleted: doomed.flatMap((d) =>
      d.ref.branch === null ? [] : [{ branch: d.ref.branch, version: d.version }],
    ),
    chunksDeleted: garbage.length,
    tempFilesDeleted: temps.files,
    damagedVersions: damaged,
    bytesFreed: bytesFreed + temps.bytes,
  };
}

/** A branch's origin, or undefined when it was deleted meanwhile. */
async function originOf(storage: Storage, branch: string, signal?: AbortSignal): Promise<BranchOrigin | undefined> {
  try {
    return (await branchOrigin(storage, branch, signal)).origin;
  } catch (err) {
    if (isStrataError(err, 'NOT_FOUND')) return undefined;
    throw err;
  }
}

/** Every string under `value` that names an object below `indexes/`. */
function collectKeys(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.startsWith(INDEXES_PREFIX)) into.add(value);
  } else if (Array.isArray(value)) for (const v of value) collectKeys(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectKeys(v, into);
}
