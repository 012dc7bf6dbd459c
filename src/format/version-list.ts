import type { Storage } from '../storage/storage.js';
import { readAnyManifest } from './latest.js';
import type { AnyManifest } from './manifest-v2.js';
import { MAIN, type Ref } from './refs.js';
import { type ManifestRead, type VersionInfo, listVersions, readAllManifests } from './versions.js';

/** Every version's manifest (v1 or v2) of `ref`, ascending; a damaged one comes with its error (see readAllManifests). */
export function readAllAnyManifests(
  storage: Storage,
  signal?: AbortSignal,
  ref: Ref = MAIN,
): Promise<ManifestRead<AnyManifest>[]> {
  return readAllManifests<AnyManifest>(storage, signal, (s, v, sig) => readAnyManifest(s, v, sig, ref), ref);
}

/** Every version (v1 or v2 manifest) of `ref` with its time, message and length, ascending; damaged ones with their error. */
export function listAllVersions(storage: Storage, signal?: AbortSignal, ref: Ref = MAIN): Promise<VersionInfo[]> {
  return listVersions<AnyManifest>(storage, signal, (s, v, sig) => readAnyManifest(s, v, sig, ref), ref);
}
