import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { type Manifest, decodeManifest, encodeManifest, versionKey } from './manifest.js';
import { MAIN, type Ref } from './refs.js';

/** Summary of one readable version, as listed by `versions()`. */
export interface CommittedVersion {
  readonly version: number;
  readonly timestampMs: number;
  readonly message: string;
  readonly length: number;
  readonly error?: undefined;
}

/** A version whose manifest cannot be read: listed with the typed error instead of its summary. */
export interface DamagedVersion {
  readonly version: number;
  /** CORRUPT (or UNSUPPORTED for a newer format), with `details.version` and `details.key`. */
  readonly error: StrataError;
  readonly timestampMs?: undefined;
  readonly message?: undefined;
  readonly length?: undefined;
}

/** One entry of `versions()`: check `error` to tell a damaged manifest from a readable one. */
export type VersionInfo = CommittedVersion | DamagedVersion;

/** What `listVersions` needs of a manifest (v1 or v2). */
export interface VersionSummary {
  readonly version: number;
  readonly timestampMs: number;
  readonly message: string;
  readonly length: number;
}

/** A version's manifest, or why it could not be read. */
export type ManifestRead<M extends { readonly version: number } = Manifest> =
  | { readonly version: number; readonly manifest: M; readonly error?: undefined }
  | { readonly version: number; readonly manifest?: undefined; readonly error: StrataError };

/** Version numbers present, ascending. */
export async function listVersionNumbers(storage: Storage, signal?: AbortSignal, ref: Ref = MAIN): Promise<number[]> {
  const keys = await storage.list(ref.versionsPrefix, { signal });
  const out: number[] = [];
  for (const k of keys) {
    const v = ref.versionFromKey(k);
    if (v !== undefined) out.push(v);
  }
  return out.sort((a, b) => a - b);
}

export async function readManifest(storage: Storage, version: number, signal?: AbortSignal): Promise<Manifest> {
  const key = versionKey(version);
  try {
    return decodeManifest(await storage.get(key, { signal }), key);
  } catch (err) {
    if (isStrataError(err, 'NOT_FOUND')) {
      throw new StrataError('NOT_FOUND', `version ${version} of ${storage.uri} does not exist`, {
        uri: storage.uri,
        key,
        hint: 'list versions with `strata versions <uri>`',
      });
    }
    throw err;
  }
}

/** The newest manifest, or NOT_FOUND naming the URI when there is no dataset there. */
export async function readLatestManifest(storage: Storage, signal?: AbortSignal): Promise<Manifest> {
  const versions = await listVersionNumbers(storage, signal);
  if (versions.length === 0) {
    throw new StrataError('NOT_FOUND', `no Strata dataset at ${storage.uri}`, {
      uri: storage.uri,
      hint: 'create it with Dataset.create(uri, { schema }) or `strata ingest`',
    });
  }
  return readManifest(storage, versions[versions.length - 1], signal);
}

/** Publishes a manifest atomically; CONFLICT when another writer already published that version. */
export async function publishManifest(storage: Storage, m: Manifest, signal?: AbortSignal): Promise<void> {
  await storage.putIfAbsent(versionKey(m.version), encodeManifest(m), { signal, contentType: 'application/json' });
}

/**
 * Every listed version's manifest, ascending. A damaged (CORRUPT) or newer-format (UNSUPPORTED)
 * manifest is returned as an error naming its version instead of failing the whole listing; a
 * manifest deleted meanwhile (by vacuum) is left out; other errors (IO, ABORTED, ...) are thrown.
 */
export async function readAllManifests<M extends { readonly version: number } = Manifest>(
  storage: Storage,
  signal?: AbortSignal,
  read: (storage: Storage, version: number, signal?: AbortSignal) => Promise<M> = readManifest as never,
  ref: Ref = MAIN,
): Promise<ManifestRead<M>[]> {
  const numbers = await listVersionNumbers(storage, signal, ref);
  const reads = await Promise.all(
    numbers.map(async (version): Promise<ManifestRead<M> | undefined> => {
      try {
        return { version, manifest: await read(storage, version, signal) };
      } catch (err) {
        if (isStrataError(err, 'NOT_FOUND')) return undefined;
        if (!isStrataError(err, 'CORRUPT') && !isStrataError(err, 'UNSUPPORTED')) throw err;
        const key = ref.versionKey(version);
        const error = new StrataError(err.code, `version ${version} of ${storage.uri}: ${err.message}`, {
          ...err.details,
          uri: storage.uri,
          key,
          version,
          cause: err,
        });
        return { version, error };
      }
    }),
  );
  return reads.filter((r): r is ManifestRead<M> => r !== undefined);
}

/** Every version, oldest first; a damaged manifest is listed with its `error` (see DamagedVersion). */
export async function listVersions<M extends Manifest | VersionSummary = Manifest>(
  storage: Storage,
  signal?: AbortSignal,
  read?: (storage: Storage, version: number, signal?: AbortSignal) => Promise<M>,
  ref: Ref = MAIN,
): Promise<VersionInfo[]> {
  return (await readAllManifests<M>(storage, signal, read, ref)).map((r) =>
    r.error
      ? { version: r.version, error: r.error }
      : {
          version: r.version,
          timestampMs: r.manifest.timestampMs,
          message: r.manifest.message,
          length: r.manifest.length,
        },
  );
}
