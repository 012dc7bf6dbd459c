import { StrataError } from '../errors.js';
import type { Action } from './actions.js';
import { decodeCheckedJson, encodeCheckedJson, hasChecksumSuffix } from './json-file.js';
import { type ColumnManifest, MANIFEST_FORMAT, type Manifest, decodeManifest } from './manifest.js';

export const MANIFEST_V2 = 2;
/** Fragment refs kept in a manifest's tail before they are sealed into a page. */
export const PAGE_FRAGMENTS = 256;
/** Page refs kept loose in a manifest before they are sealed into an index page. */
export const INDEX_PAGES = 32;

/**
 * A column as declared in a v2 schema: a v1 column entry without its data (which lives in
 * fragments). Ids are `c` + 8 hex in v2; v1 datasets keep `c<n>`.
 */
export type ColumnSchema = Omit<ColumnManifest, 'length' | 'chunks'>;

/** A fragment as referenced from a manifest or page. */
export interface FragmentRef {
  /** Dataset-unique, assigned when the append is applied; kept when the fragment file is replaced by a fill. */
  readonly id: number;
  readonly key: string;
  /** Physical rows. */
  readonly rows: number;
  /** Deleted rows (listed in the `deletion` file). */
  readonly deleted: number;
  readonly deletion: string | null;
  /** Row id of the fragment's first row when its ids are consecutive; null when the file lists them. */
  readonly rowIdStart: number | null;
}

/** A sealed, immutable page of up to PAGE_FRAGMENTS fragment refs. */
export interface PageRef {
  readonly key: string;
  readonly fragments: number;
  readonly rows: number;
  readonly liveRows: number;
  /** Smallest and largest fragment id in the page (so a fill finds its page without reading all). */
  readonly minId: number;
  readonly maxId: number;
}

/**
 * A sealed, immutable index page: up to INDEX_PAGES page refs, so the manifest stays small
 * (a few hundred refs) at any size. Counts are sums over its pages.
 */
export interface IndexRef {
  readonly key: string;
  readonly pages: number;
  readonly fragments: number;
  readonly rows: number;
  readonly liveRows: number;
  readonly minId: number;
  readonly maxId: number;
}

/** A version's fragments in row order: those of `indexes`, then of `pages`, then `tail`. */
export interface FragmentList {
  /** Absent in manifests written before index pages existed (read as []). */
  readonly indexes?: readonly IndexRef[];
  readonly pages: readonly PageRef[];
  readonly tail: readonly FragmentRef[];
}

export interface ManifestV2 {
  readonly format: typeof MANIFEST_FORMAT;
  readonly formatVersion: typeof MANIFEST_V2;
  readonly version: number;
  readonly parent: number | null;
  readonly timestampMs: number;
  readonly message: string;
  readonly writer: string;
  /** Live rows. */
  readonly length: number;
  readonly physicalRows: number;
  readonly nextRowId: number;
  readonly nextFragmentId: number;
  readonly schema: readonly ColumnSchema[];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly fragments: FragmentList;
  readonly operation: { readonly actions: readonly Action[] };
  /** The version the writer started from (its operation was rebased onto `parent`). */
  readonly readVersion: number | null;
  /**
   * Only in version 0 of a branch (`branches/<name>/versions/…0.json`): the version it was copied
   * from (`branch` null for main).
   */
  readonly origin?: BranchOrigin;
  /** Only in a version published by a branch merge: the branch and the branch version merged. */
  readonly merged?: { readonly branch: string; readonly version: number };
}

/** Where a branch forked: a version of main (`branch` null) or of another branch. */
export interface BranchOrigin {
  /** The branch forked from; null for main. */
  readonly branch: string | null;
  /** The version of that branch the fork copied. */
  readonly version: number;
}

export type AnyManifest = Manifest | ManifestV2;

export function isV2(m: AnyManifest): m is ManifestV2 {
  return m.formatVersion === MANIFEST_V2;
}

export function encodeManifestV2(m: ManifestV2): Uint8Array {
  return encodeCheckedJson(m);
}

/** Decodes a v1 or v2 manifest; v2 is checksum-verified (CORRUPT naming the key). */
export function decodeAnyManifest(bytes: Uint8Array, key: string): AnyManifest {
  if (!hasChecksumSuffix(bytes)) {
    const text = new TextDecoder().decode(bytes.subarray(0, 200));
    if (/"formatVersion":\s*2\b/.test(text)) {
      throw new StrataError('CORRUPT', `manifest ${key} is damaged: its crc32c suffix is missing`, {
        key,
        hint: 'open an earlier version',
      });
    }
    return decodeManifest(bytes, key);
  }
  const m = decodeCheckedJson<ManifestV2>(bytes, key, 'manifest');
  if (m.format !== MANIFEST_FORMAT || typeof m.version !== 'number' || !Array.isArray(m.schema) || !m.fragments) {
    throw new StrataError('CORRUPT', `manifest ${key} is not a Strata manifest`, {
      key,
      hint: 'open an earlier version',
    });
  }
  if (m.formatVersion > MANIFEST_V2) {
    throw new StrataError('UNSUPPORTED', `manifest ${key} has format version ${m.formatVersion}`, {
      key,
      hint: 'upgrade Strata',
    });
  }
  return m;
}

/** The schema of any manifest (a v1 column without its chunk list). */
export function schemaOf(m: AnyManifest): readonly ColumnSchema[] {
  if (isV2(m)) return m.schema;
  return m.columns.map((c) => ({
    name: c.name,
    id: c.id,
    htype: c.htype,
    dtype: c.dtype,
    sampleCompression: c.sampleCompression,
    chunkCompression: c.chunkCompression,
    meta: c.meta,
  }));
}

/** Version 0 of a new v2 dataset. */
export function emptyManifestV2(writer: string, schema: readonly ColumnSchema[]): ManifestV2 {
  return {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_V2,
    version: 0,
    parent: null,
    timestampMs: Date.now(),
    message: 'create',
    writer,
    length: 0,
    physicalRows: 0,
    nextRowId: 0,
    nextFragmentId: 0,
    schema,
    meta: {},
    fragments: { indexes: [], pages: [], tail: [] },
    operation: { actions: schema.map((column) => ({ type: 'addColumn' as const, column })) },
    readVersion: null,
  };
}
