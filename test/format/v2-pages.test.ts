import { describe, expect, it } from 'vitest';
import { encodeCheckedJson } from '../../src/format/json-file.js';
import { FragmentListEditor } from '../../src/format/fragment-list.js';
import { readLatestAnyManifest, writeLatestHint } from '../../src/format/latest.js';
import { liveObjects } from '../../src/format/live-objects.js';
import {
  type FragmentRef,
  INDEX_PAGES,
  type ManifestV2,
  PAGE_FRAGMENTS,
  emptyManifestV2,
  encodeManifestV2,
} from '../../src/format/manifest-v2.js';
import { versionKey } from '../../src/format/manifest.js';
import { newFragmentKey } from '../../src/format/object-keys.js';
import { optimize } from '../../src/format/optimize.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { CountingStorage } from '../helpers/counting-storage.js';
import { SCHEMA } from './v2-helpers.js';

const FRAGMENTS = 20_000;
const vec = (r: number) => ({ bytes: new Uint8Array(new Float32Array([r, -r]).buffer), shape: [2] });

/** Version 1 of a dataset of FRAGMENTS metadata-only fragments of 10 rows (row ids id*10..). */
async function generate(storage: Storage): Promise<ManifestV2> {
  const key = newFragmentKey();
  await storage.put(key, encodeCheckedJson({ rows: 10, rowIds: null, columns: {} }));
  const refs: FragmentRef[] = Array.from({ length: FRAGMENTS }, (_, id) => ({
    id,
    key,
    rows: 10,
    deleted: 0,
    deletion: null,
    rowIdStart: id * 10,
  }));
  const base = emptyManifestV2('test', SCHEMA);
  const m: ManifestV2 = {
    ...base,
    version: 1,
    parent: 0,
    length: FRAGMENTS * 10,
    physicalRows: FRAGMENTS * 10,
    nextRowId: FRAGMENTS * 10,
    nextFragmentId: FRAGMENTS,
    fragments: await new FragmentListEditor(storage, { indexes: [], pages: [], tail: refs }).seal(),
    operation: { actions: [] },
  };
  await storage.put(versionKey(0), encodeManifestV2(base));
  await storage.put(versionKey(1), encodeManifestV2(m));
  await writeLatestHint(storage, 1);
  return m;
}

function refCount(m: ManifestV2): number {
  return (m.fragments.indexes ?? []).length + m.fragments.pages.length + m.fragments.tail.length;
}

describe('format v2 index pages (two-level fragment list)', () => {
  it('keeps the manifest to a bounded number of refs and reads only the pages a position needs', async () => {
    const storage = await openStorage(`memory://pages-${Date.now()}`);
    const m = await generate(storage);
    expect(m.fragments.pages.length).toBeLessThanOrEqual(INDEX_PAGES);
    expect(m.fragments.tail.length).toBeLessThanOrEqual(PAGE_FRAGMENTS);
    expect(m.fragments.indexes!.length).toBeGreaterThan(0);

    const counting = new CountingStorage(storage);
    const v = new VersionReader(counting, m);
    for (const pos of [0, 9, 10, 81_919, 81_920, 123_456, FRAGMENTS * 10 - 1]) {
      const slot = await v.slotAt(pos);
      expect(slot.ref.id).toBe(Math.floor(pos / 10));
      expect(slot.start).toBe(slot.ref.id * 10);
      expect((await v.rowIdsOf(slot))[pos - slot.start]).toBe(pos);
    }
    counting.reads.length = 0;
    const fresh = new VersionReader(counting, m);
    await fresh.slotAt(50_000);
    expect(counting.reads).toHaveLength(2); // its index page, then its page

    const ids: number[] = [];
    for await (const s of v.slots(81_900, 82_000)) ids.push(s.ref.id);
    expect(ids).toEqual(Array.from({ length: 10 }, (_, k) => 8190 + k));
    expect((await v.allFragments()).map((s) => s.ref.id)).toEqual(Array.from({ length: FRAGMENTS }, (_, k) => k));
  });

  it('appends and fills a fragment sealed in an index page without growing the manifest', async () => {
    const storage = await openStorage(`memory://pages-fill-${Date.now()}`);
    const m1 = await generate(storage);
    const before = refCount(m1);
    const fill = new TransactionV2(storage, new VersionReader(storage, m1), { writer: 't' });
    await fill.fillRows('emb', 50_003, [vec(1), vec(2)]);
    const m2 = (await fill.commit('fill')) as ManifestV2;
    const append = new TransactionV2(storage, new VersionReader(storage, m2), { writer: 't' });
    for (let i = 0; i < 300; i++) await append.appendRow({ emb: vec(i) });
    const m3 = (await append.commit('append')) as ManifestV2;
    expect(refCount(m3)).toBeLessThanOrEqual(before + 2);
    expect(m3.length).toBe(FRAGMENTS * 10 + 300);

    const v = new VersionReader(storage, await readLatestAnyManifest(storage));
    const emb = new VersionColumnReader(v, v.column('emb'));
    expect(await emb.sample(50_002)).toBeNull();
    expect(Array.from(new Float32Array((await emb.sample(50_004))!.bytes.slice().buffer))).toEqual([2, -2]);
    expect(Array.from(new Float32Array((await emb.sample(FRAGMENTS * 10 + 299))!.bytes.slice().buffer))).toEqual([
      299, -299,
    ]);
    const live = await liveObjects(storage, [m3]);
    for (const x of m3.fragments.indexes!) expect(live.has(x.key)).toBe(true);
  });

  it('optimize rewrites fragments sealed in index pages: positions and row ids kept, the manifest stays small', async () => {
    const storage = await openStorage(`memory://pages-optimize-${Date.now()}`);
    const m1 = await generate(storage);
    const r = await optimize(storage, new VersionReader(storage, m1), { writer: 't', targetFragmentRows: 30_000 });
    expect(r.fragmentsAdded).toBe(Math.ceil((FRAGMENTS * 10) / 30_000));
    const m2 = r.manifest as ManifestV2;
    expect(refCount(m2)).toBeLessThanOrEqual(r.fragmentsAdded);
    expect(m2.length).toBe(FRAGMENTS * 10);
    const v = new VersionReader(storage, m2);
    const slots = await v.allFragments();
    expect(slots).toHaveLength(r.fragmentsAdded);
    const ids: number[] = [];
    for (const s of slots) ids.push(...(await v.rowIdsOf(s)));
    expect(ids).toEqual(Array.from({ length: FRAGMENTS * 10 }, (_, i) => i));
    const slot = await v.slotAt(123_456);
    expect((await v.rowIdsOf(slot))[123_456 - slot.start]).toBe(123_456);
  });
});
