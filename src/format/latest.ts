import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { decodeCheckedJson, encodeCheckedJson } from './json-file.js';
import { type AnyManifest, decodeAnyManifest } from './manifest-v2.js';
import { MAIN, type Ref, refLabel } from './refs.js';
import { listVersionNumbers } from './versions.js';

/** The advisory `_latest.json` hint. */
export interface LatestHint {
  readonly version: number;
  readonly timestampMs: number;
}

/** Overwrites the hint after a commit. Best effort: a failure only makes the next open probe further. */
export async function writeLatestHint(
  storage: Storage,
  version: number,
  signal?: AbortSignal,
  ref: Ref = MAIN,
): Promise<void> {
  try {
    await storage.put(ref.latestKey, encodeCheckedJson({ version, timestampMs: Date.now() }), {
      signal,
      contentType: 'application/json',
    });
  } catch (err) {
    if (signal?.aborted) throw err;
  }
}

/** The hint, or undefined when it is missing or damaged. */
export async function readLatestHint(
  storage: Storage,
  signal?: AbortSignal,
  ref: Ref = MAIN,
): Promise<LatestHint | undefined> {
  try {
    const key = ref.latestKey;
    const h = decodeCheckedJson<LatestHint>(await storage.get(key, { signal }), key, 'latest hint');
    return Number.isSafeInteger(h.version) && h.version >= 0 ? h : undefined;
  } catch (err) {
    if (isStrataError(err, 'NOT_FOUND') || isStrataError(err, 'CORRUPT')) return undefined;
    throw err;
  }
}

/** Reads version `v`'s manifest, or undefined when it does not exist. */
export async function tryReadManifest(
  storage: Storage,
  v: number,
  signal?: AbortSignal,
  ref: Ref = MAIN,
): Promise<AnyManifest | undefined> {
  const key = ref.versionKey(v);
  try {
    return decodeAnyManifest(await storage.get(key, { signal }), key);
  } catch (err) {
    if (isStrataError(err, 'NOT_FOUND')) return undefined;
    throw err;
  }
}

export async function readAnyManifest(
  storage: Storage,
  v: number,
  signal?: AbortSignal,
  ref: Ref = MAIN,
): Promise<AnyManifest> {
  const m = await tryReadManifest(storage, v, signal, ref);
  if (!m) {
    const where = ref.branch === null ? '' : ` on ${refLabel(ref)}`;
    throw new StrataError('NOT_FOUND', `version ${v}${where} of ${storage.uri} does not exist`, {
      uri: storage.uri,
      key: ref.versionKey(v),
      hint: 'list versions with `strata versions <uri>`',
    });
  }
  return m;
}

/**
 * The newest manifest. With a hint: GET hint, probe v+1 (gallop v+1, v+2, v+4… then binary search
 * while versions exist), GET the manifest — about 3 requests however long the history. The hint is
 * never trusted: a stale hint is probed past, a missing or damaged one falls back to LIST.
 */
export async function readLatestAnyManifest(
  storage: Storage,
  signal?: AbortSignal,
  ref: Ref = MAIN,
): Promise<AnyManifest> {
  const hint = await readLatestHint(storage, signal, ref);
  if (hint) {
    const found = await tryReadManifest(storage, hint.version, signal, ref);
    if (found) return probeForward(storage, found, signal, ref);
  }
  const versions = await listVersionNumbers(storage, signal, ref);
  if (versions.length === 0) {
    if (ref.branch !== null) {
      throw new StrataError('NOT_FOUND', `branch ${ref.branch} of ${storage.uri} does not exist`, {
        uri: storage.uri,
        key: ref.versionsPrefix,
        hint: 'list branches with ds.branches(), or create it with ds.branch(name)',
      });
    }
    throw new StrataError('NOT_FOUND', `no Strata dataset at ${storage.uri}`, {
      uri: storage.uri,
      hint: 'create it with Dataset.create(uri, { schema }) or `strata ingest`',
    });
  }
  return readAnyManifest(storage, versions[versions.length - 1], signal, ref);
}

/** From a known manifest, the newest version after it (versions are dense: each has a parent). */
export async function probeForward(
  storage: Storage,
  known: AnyManifest,
  signal?: AbortSignal,
  ref: Ref = MAIN,
): Promise<AnyManifest> {
  let best = known;
  let step = 1;
  // gallop: v+1, v+2, v+4, ... while they exist
  for (;;) {
    const m = await tryReadManifest(storage, best.version + step, signal, ref);
    if (!m) break;
    best = m;
    step *= 2;
  }
  // binary search in (best, best + step)
  let lo = best.version;
  let hi = best.version + step;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const m = await tryReadManifest(storage, mid, signal, ref);
    if (m) {
      best = m;
      lo = mid;
    } else hi = mid;
  }
  return best;
}
