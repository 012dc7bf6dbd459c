import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { decodeCheckedJson, encodeCheckedJson } from './json-file.js';
import type { FragmentRef, IndexRef, PageRef } from './manifest-v2.js';
import { newIndexKey, newPageKey } from './object-keys.js';

/** An immutable page file: fragment refs in row order. */
export interface PageFile {
  readonly fragments: readonly FragmentRef[];
}

/** An immutable index page file: page refs in row order. */
export interface IndexFile {
  readonly pages: readonly PageRef[];
}

export function decodePage(bytes: Uint8Array, key: string): PageFile {
  const p = decodeCheckedJson<PageFile>(bytes, key, 'page');
  if (!Array.isArray(p.fragments)) {
    throw new StrataError('CORRUPT', `page ${key} is not a Strata page`, { key, hint: 'open an earlier version' });
  }
  return p;
}

export function decodeIndex(bytes: Uint8Array, key: string): IndexFile {
  const p = decodeCheckedJson<IndexFile>(bytes, key, 'index page');
  if (!Array.isArray(p.pages)) {
    throw new StrataError('CORRUPT', `index page ${key} is not a Strata index page`, {
      key,
      hint: 'open an earlier version',
    });
  }
  return p;
}

export async function readPage(storage: Storage, key: string, signal?: AbortSignal): Promise<PageFile> {
  return decodePage(await storage.get(key, { signal }), key);
}

export async function readIndex(storage: Storage, key: string, signal?: AbortSignal): Promise<IndexFile> {
  return decodeIndex(await storage.get(key, { signal }), key);
}

/** Writes refs as a new page object (before any manifest references it) and returns its ref. */
export async function writePage(
  storage: Storage,
  refs: readonly FragmentRef[],
  signal?: AbortSignal,
): Promise<PageRef> {
  const key = newPageKey();
  await storage.put(key, encodeCheckedJson({ fragments: refs }), { signal, contentType: 'application/json' });
  let rows = 0;
  let live = 0;
  let minId = Infinity;
  let maxId = -Infinity;
  for (const r of refs) {
    rows += r.rows;
    live += r.rows - r.deleted;
    minId = Math.min(minId, r.id);
    maxId = Math.max(maxId, r.id);
  }
  return { key, fragments: refs.length, rows, liveRows: live, minId, maxId };
}

/** Writes page refs as a new index page object and returns its ref. */
export async function writeIndex(storage: Storage, pages: readonly PageRef[], signal?: AbortSignal): Promise<IndexRef> {
  const key = newIndexKey();
  await storage.put(key, encodeCheckedJson({ pages }), { signal, contentType: 'application/json' });
  const sum = (f: (p: PageRef) => number) => pages.reduce((n, p) => n + f(p), 0);
  return {
    key,
    pages: pages.length,
    fragments: sum((p) => p.fragments),
    rows: sum((p) => p.rows),
    liveRows: sum((p) => p.liveRows),
    minId: Math.min(...pages.map((p) => p.minId)),
    maxId: Math.max(...pages.map((p) => p.maxId)),
  };
}
