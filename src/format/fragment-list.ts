import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import {
  type FragmentList,
  type FragmentRef,
  INDEX_PAGES,
  type IndexRef,
  PAGE_FRAGMENTS,
  type PageRef,
} from './manifest-v2.js';
import { readIndex, readPage, writeIndex, writePage } from './pages.js';

/** One entry of a fragment list in row order, at any level. */
type Item = { readonly index: IndexRef } | { readonly page: PageRef } | { readonly ref: FragmentRef };

/**
 * A version's fragment list being changed by a commit. Only the pages and index pages holding a
 * changed fragment are read and rewritten; `seal` bounds the manifest's share (≤ PAGE_FRAGMENTS
 * tail refs, ≤ INDEX_PAGES loose pages), so a commit's cost does not grow with the dataset.
 */
export class FragmentListEditor {
  indexes: IndexRef[];
  pages: PageRef[];
  tail: FragmentRef[];

  constructor(
    private readonly storage: Storage,
    list: FragmentList,
    private readonly signal?: AbortSignal,
  ) {
    this.indexes = [...(list.indexes ?? [])];
    this.pages = [...list.pages];
    this.tail = [...list.tail];
  }

  /** Replaces fragment `id`'s ref by `swap(ref)`; false when no such fragment exists. */
  async update(id: number, swap: (ref: FragmentRef) => Promise<FragmentRef>): Promise<boolean> {
    const t = this.tail.findIndex((r) => r.id === id);
    if (t >= 0) {
      this.tail[t] = await swap(this.tail[t]);
      return true;
    }
    const inPages = async (pages: PageRef[]): Promise<boolean> => {
      for (let p = 0; p < pages.length; p++) {
        if (id < pages[p].minId || id > pages[p].maxId) continue;
        const refs = [...(await readPage(this.storage, pages[p].key, this.signal)).fragments];
        const i = refs.findIndex((r) => r.id === id);
        if (i < 0) continue;
        refs[i] = await swap(refs[i]);
        pages[p] = await writePage(this.storage, refs, this.signal);
        return true;
      }
      return false;
    };
    if (await inPages(this.pages)) return true;
    for (let x = 0; x < this.indexes.length; x++) {
      if (id < this.indexes[x].minId || id > this.indexes[x].maxId) continue;
      const pages = [...(await readIndex(this.storage, this.indexes[x].key, this.signal)).pages];
      if (!(await inPages(pages))) continue;
      this.indexes[x] = await writeIndex(this.storage, pages, this.signal);
      return true;
    }
    return false;
  }

  /**
   * Removes the fragments `ids` and puts `added` where the first of them was; returns the removed
   * refs (in row order). Throws CONFLICT naming a fragment that no longer exists.
   */
  async replace(ids: readonly number[], added: readonly FragmentRef[]): Promise<FragmentRef[]> {
    const wanted = new Set(ids);
    const touches = (x: { minId: number; maxId: number }) => ids.some((id) => id >= x.minId && id <= x.maxId);
    const items: Item[] = [];
    const expandPages = async (pages: readonly PageRef[]) => {
      for (const page of pages) {
        if (!touches(page)) items.push({ page });
        else for (const ref of (await readPage(this.storage, page.key, this.signal)).fragments) items.push({ ref });
      }
    };
    for (const index of this.indexes) {
      if (!touches(index)) items.push({ index });
      else await expandPages((await readIndex(this.storage, index.key, this.signal)).pages);
    }
    await expandPages(this.pages);
    for (const ref of this.tail) items.push({ ref });
    const removed: FragmentRef[] = [];
    const out: Item[] = [];
    for (const item of items) {
      if (!('ref' in item) || !wanted.has(item.ref.id)) out.push(item);
      else {
        if (removed.length === 0) for (const ref of added) out.push({ ref });
        removed.push(item.ref);
      }
    }
    const gone = ids.find((id) => !removed.some((r) => r.id === id));
    if (gone !== undefined) {
      throw new StrataError('CONFLICT', `a concurrent commit changed fragment ${gone} (it no longer exists)`, {
        fragment: gone,
        hint: 'reopen the dataset at its latest version and apply the change again',
      });
    }
    await this.rebuild(out);
    return removed;
  }

  /** Seals tail refs beyond PAGE_FRAGMENTS into pages and loose pages beyond INDEX_PAGES into index pages. */
  async seal(): Promise<FragmentList> {
    while (this.tail.length > PAGE_FRAGMENTS)
      this.pages.push(await writePage(this.storage, this.tail.splice(0, PAGE_FRAGMENTS), this.signal));
    while (this.pages.length > INDEX_PAGES)
      this.indexes.push(await writeIndex(this.storage, this.pages.splice(0, INDEX_PAGES), this.signal));
    return { indexes: this.indexes, pages: this.pages, tail: this.tail };
  }

  /** Lays `items` out as indexes, then pages, then tail: whatever precedes a higher level is sealed. */
  private async rebuild(items: readonly Item[]): Promise<void> {
    const indexes: IndexRef[] = [];
    let pages: PageRef[] = [];
    let refs: FragmentRef[] = [];
    const sealRefs = async () => {
      for (let s = 0; s < refs.length; s += PAGE_FRAGMENTS)
        pages.push(await writePage(this.storage, refs.slice(s, s + PAGE_FRAGMENTS), this.signal));
      refs = [];
    };
    const sealPages = async () => {
      for (let s = 0; s < pages.length; s += INDEX_PAGES)
        indexes.push(await writeIndex(this.storage, pages.slice(s, s + INDEX_PAGES), this.signal));
      pages = [];
    };
    for (const item of items) {
      if ('ref' in item) refs.push(item.ref);
      else if ('page' in item) {
        await sealRefs();
        pages.push(item.page);
      } else {
        await sealRefs();
        await sealPages();
        indexes.push(item.index);
      }
    }
    this.indexes = indexes;
    this.pages = pages;
    this.tail = refs;
  }
}
