import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { decodeCheckedJson, encodeCheckedJson } from './json-file.js';
import type { FragmentRef, PageRef } from './manifest-v2.js';
import { newPageKey } from './object-keys.js';

/** An immutable page file: fragment refs in row order. */
export interface PageFile {
  readonly fragments: readonly FragmentRef[];
}

export function decodePage(bytes: Uint8Array, key: string): PageFile {
  const p = decodeCheckedJson<PageFile>(bytes, key, 'page');
  if (!Array.isArray(p.fragments)) {
    throw new StrataError('CORRUPT', `page ${key} is not a Strata page`, { key, hint: 'open an earlier version' });
  }
  return p;
}

export async function readPage(storage: Storage, key: string, signal?: AbortSignal): Promise<PageFile> {
  return decodePage(await storage.get(key, { signal }), key);
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
  for (const r of refs) {
    rows += r.rows;
    live += r.rows - r.deleted;
  }
  const ids = refs.map((r) => r.id);
  return { key, fragments: refs.length, rows, liveRows: live, minId: Math.min(...ids), maxId: Math.max(...ids) };
}
