import { randomBytes } from 'node:crypto';

export const FRAGMENTS_PREFIX = 'fragments/';
export const PAGES_PREFIX = 'pages/';
export const DELETIONS_PREFIX = 'deletions/';
export const LATEST_KEY = '_latest.json';

/** `<12 hex ms time>-<16 hex random>`: unique and time-ordered, so vacuum can judge age from the key. */
function stamp(): string {
  return `${Date.now().toString(16).padStart(12, '0')}-${randomBytes(8).toString('hex')}`;
}

export function newFragmentKey(): string {
  return `${FRAGMENTS_PREFIX}${stamp()}.frag.json`;
}

export function newPageKey(): string {
  return `${PAGES_PREFIX}${stamp()}.page.json`;
}

export function newIndexKey(): string {
  return `${PAGES_PREFIX}${stamp()}.index.json`;
}

export function newDeletionKey(): string {
  return `${DELETIONS_PREFIX}${stamp()}.del`;
}

/** Creation time encoded in a fragment, page, index page or deletion file key. */
export function objectTimeMs(key: string): number | undefined {
  const m = /\/([0-9a-f]{12})-[0-9a-f]{16}\.(frag\.json|page\.json|index\.json|del)$/.exec(key);
  return m ? parseInt(m[1], 16) : undefined;
}

/** A random column id (`c` + 8 hex), so concurrent addColumn on two writers does not collide. */
export function newColumnId(): string {
  return `c${randomBytes(4).toString('hex')}`;
}
