import type { Storage } from '../storage/storage.js';
import { readAnyManifest } from './latest.js';
import { type VersionInfo, listVersionNumbers } from './versions.js';

/** Every version (v1 or v2 manifest) with its time, message and length, ascending. */
export async function listAllVersions(storage: Storage, signal?: AbortSignal): Promise<VersionInfo[]> {
  const numbers = await listVersionNumbers(storage, signal);
  const manifests = await Promise.all(numbers.map((v) => readAnyManifest(storage, v, signal)));
  return manifests.map((m) => ({
    version: m.version,
    timestampMs: m.timestampMs,
    message: m.message,
    length: m.length,
  }));
}
