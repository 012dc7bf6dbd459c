import type { Storage } from '../storage/storage.js';
import { readFragment } from './fragment.js';
import { type AnyManifest, isV2 } from './manifest-v2.js';
import { readPage } from './pages.js';

/**
 * Every object the given manifests reference: chunks (v1 column lists, or the segments of v2
 * fragment files), fragment files, pages and deletion files. Each fragment file and page is read once.
 */
export async function liveObjects(
  storage: Storage,
  manifests: readonly AnyManifest[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const live = new Set<string>();
  const fragments = new Set<string>();
  for (const m of manifests) {
    if (!isV2(m)) {
      for (const c of m.columns) for (const ch of c.chunks) live.add(ch.key);
      continue;
    }
    for (const r of m.fragments.tail) {
      fragments.add(r.key);
      if (r.deletion) live.add(r.deletion);
    }
    for (const p of m.fragments.pages) {
      if (live.has(p.key)) continue;
      live.add(p.key);
      for (const r of (await readPage(storage, p.key, signal)).fragments) {
        fragments.add(r.key);
        if (r.deletion) live.add(r.deletion);
      }
    }
  }
  for (const key of fragments) {
    live.add(key);
    const f = await readFragment(storage, key, signal);
    for (const segments of Object.values(f.columns))
      for (const s of segments) for (const ch of s.chunks) live.add(ch.key);
  }
  return live;
}
