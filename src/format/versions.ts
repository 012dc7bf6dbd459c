import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import {
  type Manifest,
  VERSIONS_PREFIX,
  decodeManifest,
  encodeManifest,
  versionFromKey,
  versionKey,
} from './manifest.js';

/** Summary of one version, as listed by `versions()`. */
export interface VersionInfo {
  readonly version: number;
  readonly timestampMs: number;
  readonly message: string;
  readonly length: number;
}

/** Version numbers present, ascending. */
export async function listVersionNumbers(storage: Storage, signal?: AbortSignal): Promise<number[]> {
  const keys = await storage.list(VERSIONS_PREFIX, { signal });
  const out: number[] = [];
  for (const k of keys) {
    const v = versionFromKey(k);
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

export async function listVersions(storage: Storage, signal?: AbortSignal): Promise<VersionInfo[]> {
  const numbers = await listVersionNumbers(storage, signal);
  const manifests = await Promise.all(numbers.map((v) => readManifest(storage, v, signal)));
  return manifests.map((m) => ({
    version: m.version,
    timestampMs: m.timestampMs,
    message: m.message,
    length: m.length,
  }));
}
