import { StrataError } from '../errors.js';
import type { ChunkCodec, SampleCompression } from './codec.js';
import type { ChunkStatsJson } from './chunk-stats.js';
import type { DType } from './dtype.js';
import { CHUNKS_PREFIX, serializeManifest, validateManifest, verifyManifestChecksum } from './manifest-check.js';

export const MANIFEST_FORMAT = 'strata-dataset';
export const MANIFEST_FORMAT_VERSION = 1;

/** One chunk object referenced by a column, in sample order. */
export interface ChunkRef {
  /** Storage key below the dataset root, e.g. `chunks/c0/0192f3a1b2c-9f8e7d6c5b4a3921.chunk`. */
  readonly key: string;
  /** Number of samples in the chunk. */
  readonly samples: number;
  /** Total object size in bytes. */
  readonly bytes: number;
  /** Length of the chunk header (preamble + arrays), so a reader can fetch it with one ranged read. */
  readonly headerBytes: number;
  /** Min/max/null count of a scalar column's chunk (v2 fragment files; absent: unknown). */
  readonly stats?: ChunkStatsJson;
}

/** A column (tensor) as recorded in a manifest. */
export interface ColumnManifest {
  readonly name: string;
  /** Stable id used in chunk keys, so column names need no escaping. */
  readonly id: string;
  readonly htype: string;
  readonly dtype: DType;
  readonly sampleCompression: SampleCompression;
  readonly chunkCompression: ChunkCodec;
  /** Htype-specific metadata (class names, bbox format, embedding dim, lineage, ...). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** Samples stored; may be less than the dataset length (missing trailing cells read as null). */
  readonly length: number;
  readonly chunks: readonly ChunkRef[];
}

/** One committed version of a dataset: `versions/<20-digit version>.json`. */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly formatVersion: number;
  readonly version: number;
  readonly parent: number | null;
  readonly timestampMs: number;
  readonly message: string;
  /** Number of rows. */
  readonly length: number;
  readonly columns: readonly ColumnManifest[];
  /** Dataset-level metadata (e.g. vector indexes and the version they were built for). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** Strata version that wrote this manifest. */
  readonly writer: string;
  /**
   * `crc32c:<8 hex>` of the manifest text before this member (written last by encodeManifest,
   * verified on read when present; manifests written before it existed have none).
   */
  readonly checksum?: string;
}

export const VERSIONS_PREFIX = 'versions/';
export { CHUNKS_PREFIX };

export function versionKey(version: number): string {
  return `${VERSIONS_PREFIX}${String(version).padStart(20, '0')}.json`;
}

export function versionFromKey(key: string): number | undefined {
  const m = /^versions\/(\d{20})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** UTF-8 JSON with a trailing `checksum` member (see manifest-check.ts and docs/FORMAT.md). */
export function encodeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(serializeManifest(m));
}

/**
 * Parses and validates a manifest: JSON, format, format version, checksum when present, then its
 * structure (validateManifest). Any damage is CORRUPT naming the key; a newer format is UNSUPPORTED.
 */
export function decodeManifest(bytes: Uint8Array, key: string): Manifest {
  let text: string;
  let m: Record<string, unknown>;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    m = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new StrataError('CORRUPT', `manifest ${key} is not valid JSON`, {
      key,
      cause,
      hint: 'open an earlier version',
    });
  }
  if (m?.format !== MANIFEST_FORMAT) {
    throw new StrataError('CORRUPT', `manifest ${key} is not a Strata manifest`, {
      key,
      hint: 'open an earlier version',
    });
  }
  if (typeof m.formatVersion !== 'number') {
    throw new StrataError('CORRUPT', `manifest ${key} has no format version`, { key, field: 'formatVersion' });
  }
  if (m.formatVersion > MANIFEST_FORMAT_VERSION) {
    throw new StrataError('UNSUPPORTED', `manifest ${key} has format version ${String(m.formatVersion)}`, {
      key,
      hint: 'upgrade Strata',
    });
  }
  verifyManifestChecksum(text, m, key);
  return validateManifest(m, key);
}

export function emptyManifest(writer: string): Manifest {
  return {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_FORMAT_VERSION,
    version: 0,
    parent: null,
    timestampMs: Date.now(),
    message: 'create',
    length: 0,
    columns: [],
    meta: {},
    writer,
  };
}
