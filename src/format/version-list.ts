import type { Storage } from '../storage/storage.js';
import { readAnyManifest } from './latest.js';
import type { AnyManifest } from './manifest-v2.js';
import { type ManifestRead, type VersionInfo, listVersions, readAllManifests } from './versions.js';

/** Every version's manifest (v1 or v2), ascending; a damaged one comes with its error (see readAllManifests). */
export function readAllAnyManifests(storage: Storage, signal?: AbortSignal): Promise<ManifestRead<AnyManifest>[]> {
  return readAllManifests<AnyManifest>(storage, signal, readAnyManifest);
}

/** Every version (v1 or v2 manifest) with its time, message and length, ascending; damaged ones with their error. */
export function listAllVersions(storage: Storage, signal?: AbortSignal): Promise<VersionInfo[]> {
  return listVersions<AnyManifest>(storage, signal, readAnyManifest);
}
