import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { readAnyManifest, readLatestAnyManifest, tryReadManifest, writeLatestHint } from './latest.js';
import { type AnyManifest, type BranchOrigin, type ManifestV2, encodeManifestV2, isV2 } from './manifest-v2.js';
import { BRANCHES_PREFIX, type Ref, branchRef, refLabel } from './refs.js';
import { listTags } from './tags.js';
import { listVersionNumbers } from './versions.js';

/** A branch as listed by `branches()`. */
export interface BranchInfo {
  /** The branch name (`Dataset.open(uri, { branch: name })`). */
  readonly name: string;
  /** The version it forked from. */
  readonly origin: BranchOrigin;
  /** Its newest version (0 right after it was created). */
  readonly version: number;
  /** Commit time of its newest version (ms since the epoch). */
  readonly timestampMs: number;
}

/**
 * Creates branch `name` from `source` (a manifest of `from`): its version 0 is a copy of the
 * source's content (fragments, pages, chunks are shared, not copied) recording the origin,
 * published put-if-absent at `branches/<name>/versions/<0>.json` (CONFLICT when the branch exists).
 */
export async function createBranch(
  storage: Storage,
  name: string,
  from: Ref,
  source: AnyManifest,
  writer: string,
  signal?: AbortSignal,
): Promise<ManifestV2> {
  const ref = branchRef(name);
  if (!isV2(source)) {
    throw new StrataError('UNSUPPORTED', `version ${source.version} of ${storage.uri} is in format v1`, {
      uri: storage.uri,
      hint: 'upgrade the dataset first (commit any change, or `strata migrate <uri>`)',
    });
  }
  const first: ManifestV2 = {
    ...source,
    version: 0,
    parent: null,
    timestampMs: Date.now(),
    message: `branch ${name} from ${refLabel(from)} version ${source.version}`,
    writer,
    operation: { actions: [] },
    readVersion: null,
    origin: { branch: from.branch, version: source.version },
  };
  try {
    await storage.putIfAbsent(ref.versionKey(0), encodeManifestV2(first), { signal, contentType: 'application/json' });
  } catch (err) {
    if (!isStrataError(err, 'CONFLICT')) throw err;
    throw new StrataError('CONFLICT', `branch ${name} already exists in ${storage.uri}`, {
      uri: storage.uri,
      key: ref.versionKey(0),
      hint: 'open it with { branch }, delete it with deleteBranch, or choose another name',
    });
  }
  // A vacuum that read the refs before this branch existed may have deleted the source meanwhile.
  if (!(await tryReadManifest(storage, source.version, signal, from))) {
    await storage.delete(ref.versionKey(0), { signal });
    await readAnyManifest(storage, source.version, signal, from);
  }
  await writeLatestHint(storage, 0, signal, ref);
  return first;
}

/** Version 0 of a branch, which records where it forked (NOT_FOUND when there is no such branch). */
export async function branchOrigin(
  storage: Storage,
  name: string,
  signal?: AbortSignal,
): Promise<{ readonly origin: BranchOrigin; readonly fork: ManifestV2 }> {
  const ref = branchRef(name);
  let m: AnyManifest;
  try {
    m = await readAnyManifest(storage, 0, signal, ref);
  } catch (err) {
    if (!isStrataError(err, 'NOT_FOUND')) throw err;
    throw new StrataError('NOT_FOUND', `branch ${name} does not exist in ${storage.uri}`, {
      uri: storage.uri,
      key: ref.versionKey(0),
      hint: 'list branches with ds.branches(), or create it with ds.branch(name)',
    });
  }
  if (!isV2(m) || !m.origin) {
    throw new StrataError('CORRUPT', `version 0 of branch ${name} does not record its origin`, {
      uri: storage.uri,
      key: ref.versionKey(0),
      hint: 'delete the branch and create it again',
    });
  }
  return { origin: m.origin, fork: m };
}

/** Names of every branch (those with a version 0), sorted. */
export async function listBranchNames(storage: Storage, signal?: AbortSignal): Promise<string[]> {
  const names = new Set<string>();
  for (const k of await storage.list(BRANCHES_PREFIX, { signal })) {
    const m = /^branches\/([^/]+)\/versions\/0{20}\.json$/.exec(k);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

export async function listBranches(storage: Storage, signal?: AbortSignal): Promise<BranchInfo[]> {
  const out: BranchInfo[] = [];
  for (const name of await listBranchNames(storage, signal)) {
    try {
      const { origin } = await branchOrigin(storage, name, signal);
      const head = await readLatestAnyManifest(storage, signal, branchRef(name));
      out.push({ name, origin, version: head.version, timestampMs: head.timestampMs });
    } catch (err) {
      if (!isStrataError(err, 'NOT_FOUND')) throw err; // deleted meanwhile
    }
  }
  return out;
}

/**
 * Deletes branch `name`: its hint, then its manifests newest first, version 0 last (interrupted,
 * the branch is left at an older version; run it again). CONFLICT while a tag names the branch.
 * The objects only it referenced become collectable by vacuum.
 */
export async function deleteBranch(storage: Storage, name: string, signal?: AbortSignal): Promise<void> {
  const ref = branchRef(name);
  await branchOrigin(storage, name, signal);
  const tags = (await listTags(storage, signal)).filter((t) => t.branch === name);
  if (tags.length > 0) {
    throw new StrataError(
      'CONFLICT',
      `branch ${name} of ${storage.uri} is tagged (${tags.map((t) => t.name).join(', ')})`,
      {
        uri: storage.uri,
        hint: 'delete those tags first',
      },
    );
  }
  await storage.delete(ref.latestKey, { signal });
  const versions = await listVersionNumbers(storage, signal, ref);
  for (const v of versions.reverse()) await storage.delete(ref.versionKey(v), { signal });
}
