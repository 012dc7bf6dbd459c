import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionVector, decodeDeletion, encodeDeletion } from '../../src/format/deletion.js';
import { readAnyManifest, readLatestAnyManifest } from '../../src/format/latest.js';
import type { ManifestV2 } from '../../src/format/manifest-v2.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { vacuum } from '../../src/format/vacuum.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import type { Storage } from '../../src/storage/storage.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';
import { SCHEMA, createV2 } from './v2-helpers.js';
import { openStorage } from '../../src/storage/open.js';
import { type Manifest, emptyManifest } from '../../src/format/manifest.js';
import { publishManifest } from '../../src/format/versions.js';
import { Transaction } from '../../src/format/transaction.js';
import { Dataset } from '../../src/dataset/dataset.js';

const u32 = (n: number) => ({ bytes: new Uint8Array(new Uint32Array([n]).buffer), shape: [] });
const vec = (r: number) => ({ bytes: new Uint8Array(new Float32Array([r, -r]).buffer), shape: [2] });
const num = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

async function open(storage: Storage, version?: number): Promise<VersionReader> {
  const m = version === undefined ? await readLatestAnyManifest(storage) : await readAnyManifest(storage, version);
  return new VersionReader(storage, m);
}

async function begin(storage: Storage, options = {}): Promise<TransactionV2> {
  return new TransactionV2(storage, await open(storage), { writer: 't', chunkSizeBytes: 64, ...options });
}

/** seq of every live row through scan, and through sample(i). */
async function seqs(v: VersionReader): Promise<number[]> {
  const reader = new VersionColumnReader(v, v.column('seq'));
  const scanned: number[] = [];
  for await (const r of reader.scan()) {
    expect(r.start).toBe(scanned.length);
    for (const s of r.samples) scanned.push(num(s!.bytes));
  }
  const sampled: number[] = [];
  for (let i = 0; i < v.length; i++) sampled.push(num((await reader.sample(i))!.bytes));
  expect(sampled).toEqual(scanned);
  expect(scanned.length).toBe(v.length);
  return scanned;
}

async function allRowIds(v: VersionReader): Promise<number[]> {
  const out: number[] = [];
  for (const slot of await v.allFragments()) out.push(...(await v.rowIdsOf(slot)));
  return out;
}

async function appendRows(storage: Storage, from: number, n: number, options = {}): Promise<ManifestV2> {
  const txn = await begin(storage, options);
  for (let i = from; i < from + n; i++)
    await txn.appendRow({ data: { bytes: new Uint8Array(i % 5).fill(i), shape: [i % 5] }, seq: u32(i) });
  return (await txn.commit(`rows ${from}..`)) as ManifestV2;
}

async function deleteRows(storage: Storage, positions: number[]): Promise<ManifestV2> {
  const txn = await begin(storage);
  for (const p of positions) await txn.deleteRow(p);
  return (await txn.commit('delete')) as ManifestV2;
}

describe('deletion vectors', () => {
  it('map live indexes to physical offsets like a plain list, and round-trip through the file format', () => {
    for (const deleted of [[], [0], [3, 4, 5], [0, 1, 2, 9], [2, 7, 8]]) {
      const v = new DeletionVector(Uint32Array.from(deleted));
      const liveList = Array.from({ length: 10 }, (_, p) => p).filter((p) => !deleted.includes(p));
      liveList.forEach((p, k) => {
        expect(v.physical(k)).toBe(p);
        expect(v.liveBefore(p)).toBe(k);
      });
      const back = decodeDeletion(encodeDeletion(v), 'deletions/x.del', 10, deleted.length);
      expect(Array.from(back.offsets)).toEqual(deleted);
    }
  });

  it('a damaged, truncated or inconsistent deletion file is CORRUPT naming its key', () => {
    const bytes = encodeDeletion(new DeletionVector(Uint32Array.from([1, 4, 6])));
    const flipped = bytes.slice();
    flipped[9] ^= 1;
    const failure = (f: () => unknown): unknown => {
      try {
        f();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    for (const b of [flipped, bytes.subarray(0, bytes.length - 1), new Uint8Array(4)])
      expect(failure(() => decodeDeletion(b, 'deletions/k.del'))).toMatchObject({ code: 'CORRUPT' });
    expect(failure(() => decodeDeletion(bytes, 'deletions/k.del', 5))).toMatchObject({
      code: 'CORRUPT',
      details: { key: 'deletions/k.del' },
    });
    expect(failure(() => decodeDeletion(bytes, 'deletions/k.del', 10, 2))).toMatchObject({ code: 'CORRUPT' });
  });
});

describe.each(BACKENDS)('format v2 deletes (%s)', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend.stop();
  });

  it('deleted rows disappear from scans, samples, length and row ids; old versions keep them', async () => {
    const storage = await backend.open(backend.uri());
    await createV2(storage);
    await appendRows(storage, 0, 20, { maxFragmentRows: 8 }); // fragments of 8, 8, 4
    const m = await deleteRows(storage, [0, 3, 7, 8, 19]);
    expect(m.length).toBe(15);
    expect(m.physicalRows).toBe(20);
    const expected = Array.from({ length: 20 }, (_, i) => i).filter((i) => ![0, 3, 7, 8, 19].includes(i));
    const v = await open(storage);
    expect(await seqs(v)).toEqual(expected);
    expect(await allRowIds(v)).toEqual(expected);
    for (const id of expected) expect(await v.positionOf(id)).toBe(expected.indexOf(id));
    expect(await v.positionOf(3)).toBeUndefined();
    // a second delete on a fragment with deletions writes the union; positions are the new live ones
    await deleteRows(storage, [0, 1]); // rows 1 and 2
    const v2 = await open(storage);
    expect(await seqs(v2)).toEqual(expected.slice(2));
    // time travel
    expect(await seqs(await open(storage, 1))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await seqs(await open(storage, 2))).toEqual(expected);
    // every row of a fragment deleted
    await deleteRows(storage, [0, 1, 2, 3]); // rows 4, 5, 6, 9 … fragment 0 is gone entirely
    const v3 = await open(storage);
    expect(await seqs(v3)).toEqual(expected.slice(6));
    expect((await v3.allFragments())[0].ref.deleted).toBe(8);
    await storage.close();
  });

  it('an update keeps the row id: new copies carry it and the old rows are deleted', async () => {
    const storage = await backend.open(backend.uri());
    await createV2(storage);
    await appendRows(storage, 0, 6);
    const txn = await begin(storage);
    for (const pos of [1, 4]) {
      const id = await txn.deleteRow(pos);
      await txn.appendRow({ data: { bytes: new Uint8Array([9]), shape: [1] }, seq: u32(100 + pos) }, { rowId: id });
    }
    await txn.appendRow({ data: { bytes: new Uint8Array([8]), shape: [1] }, seq: u32(200) });
    const m = (await txn.commit('update')) as ManifestV2;
    expect(m.nextRowId).toBe(7);
    const v = await open(storage);
    expect(await seqs(v)).toEqual([0, 2, 3, 5, 101, 104, 200]);
    expect(await allRowIds(v)).toEqual([0, 2, 3, 5, 1, 4, 6]);
    expect(await v.positionOf(4)).toBe(5);
    // deleting a row that kept its id through the update
    await deleteRows(storage, [5]);
    expect(await allRowIds(await open(storage))).toEqual([0, 2, 3, 5, 1, 6]);
    await storage.close();
  });
});

describe('format v2 deletes on memory storage', () => {
  it('deletes across pages keep page live counts, and fills of deleted-around rows land on the right rows', async () => {
    const storage = await openStorage(`memory://del-pages-${Date.now()}`);
    await createV2(storage);
    await appendRows(storage, 0, 300, { maxFragmentRows: 1 }); // 300 fragments: one page + tail
    const m = await deleteRows(storage, [0, 10, 200, 299]);
    expect(m.fragments.pages[0].liveRows).toBe(253);
    const expected = Array.from({ length: 300 }, (_, i) => i).filter((i) => ![0, 10, 200, 299].includes(i));
    const v = await open(storage);
    expect(await seqs(v)).toEqual(expected);
    const fill = new TransactionV2(storage, v, { writer: 't' });
    await fill.fillRows('emb', 8, [vec(9), vec(11), vec(12)]); // positions 8.. are rows 9, 11, 12
    await fill.commit('fill');
    const emb = new VersionColumnReader(await open(storage), SCHEMA[2]);
    const got: (number | null)[] = [];
    for await (const r of emb.scan(0, 12))
      for (const s of r.samples) got.push(s ? new Float32Array(s.bytes.slice().buffer)[0] : null);
    expect(got).toEqual([null, null, null, null, null, null, null, null, 9, 11, 12, null]);
    await storage.close();
  });

  it('concurrent deletes of different rows union; of the same row one wins and the other is CONFLICT naming the row', async () => {
    const storage = await openStorage(`memory://del-race-${Date.now()}`);
    await createV2(storage);
    await appendRows(storage, 0, 10);
    const a = await begin(storage);
    const b = await begin(storage);
    await a.deleteRow(2);
    await b.deleteRow(5);
    await a.commit('a');
    await b.commit('b');
    expect(await seqs(await open(storage))).toEqual([0, 1, 3, 4, 6, 7, 8, 9]);
    const c = await begin(storage);
    const d = await begin(storage);
    await c.deleteRow(0);
    await d.deleteRow(0);
    await d.deleteRow(1);
    await c.commit('c');
    await expect(d.commit('d')).rejects.toMatchObject({ code: 'CONFLICT', details: { row: 0 } });
    expect(await seqs(await open(storage))).toEqual([1, 3, 4, 6, 7, 8, 9]);
    await storage.close();
  });

  it('a delete commutes with concurrent appends and with a fill of the same fragment', async () => {
    const storage = await openStorage(`memory://del-commute-${Date.now()}`);
    await createV2(storage);
    await appendRows(storage, 0, 4);
    const del = await begin(storage);
    const fill = await begin(storage);
    const app = await begin(storage);
    await del.deleteRow(1);
    await fill.fillRows('emb', 0, [vec(0), vec(1), vec(2), vec(3)]);
    await app.appendRow({ data: { bytes: new Uint8Array([1]), shape: [1] }, seq: u32(4) });
    await fill.commit('fill');
    await app.commit('append');
    await del.commit('delete');
    const v = await open(storage);
    expect(await seqs(v)).toEqual([0, 2, 3, 4]);
    const emb = new VersionColumnReader(v, SCHEMA[2]);
    expect(new Float32Array((await emb.sample(1))!.bytes.slice().buffer)[0]).toBe(2);
    expect(await allRowIds(v)).toEqual([0, 2, 3, 4]);
    await storage.close();
  });

  it('a deleted row file that is damaged or missing reads as CORRUPT naming the key', async () => {
    const storage = await openStorage(`memory://del-corrupt-${Date.now()}`);
    await createV2(storage);
    await appendRows(storage, 0, 4);
    const m = await deleteRows(storage, [1]);
    const key = m.fragments.tail[0].deletion!;
    const bytes = await storage.get(key);
    const bad = bytes.slice();
    bad[8] ^= 0xff;
    await storage.put(key, bad);
    await expect(seqs(await open(storage))).rejects.toMatchObject({ code: 'CORRUPT', details: { key } });
    await storage.delete(key);
    await expect(seqs(await open(storage))).rejects.toMatchObject({ code: 'CORRUPT', details: { key } });
    await storage.close();
  });

  it('vacuum keeps referenced deletion files and removes replaced ones past retention', async () => {
    const storage = await openStorage(`memory://del-vacuum-${Date.now()}`);
    await createV2(storage);
    await appendRows(storage, 0, 6);
    const first = (await deleteRows(storage, [0])).fragments.tail[0].deletion!;
    const second = (await deleteRows(storage, [0])).fragments.tail[0].deletion!;
    expect(await storage.list('deletions/')).toEqual([first, second].sort());
    const kept = await vacuum(storage, { retentionMs: 3_600_000 });
    expect(kept.chunksDeleted).toBe(0);
    expect(await storage.list('deletions/')).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 5));
    await vacuum(storage, { retentionMs: 0 });
    expect(await storage.list('deletions/')).toEqual([second]);
    expect(await seqs(await open(storage))).toEqual([2, 3, 4, 5]);
    await storage.close();
  });

  it('deleting from and updating a v1 dataset migrates it in the same commit; v1 versions still read', async () => {
    const storage = await openStorage(`memory://del-v1-${Date.now()}`);
    const v1: Manifest = {
      ...emptyManifest('v1'),
      columns: SCHEMA.slice(0, 2).map((c, n) => ({ ...c, id: `c${n}`, length: 0, chunks: [] })),
    };
    await publishManifest(storage, v1);
    const txn = new Transaction(storage, v1, { writer: 'v1', chunkSizeBytes: 64 });
    for (let i = 0; i < 6; i++) await txn.appendRow({ data: { bytes: new Uint8Array([i]), shape: [1] }, seq: u32(i) });
    await txn.commit('v1 rows');
    const ds = await Dataset.open('memory://v1', { storage });
    expect(await ds.delete({ rowIds: [1, 4] })).toBe(2);
    expect(await seqs(await open(storage))).toEqual([0, 2, 3, 5]);
    expect(await ds.update({ rowIds: [0] }, { seq: 10 })).toBe(1);
    expect(await seqs(await open(storage))).toEqual([2, 3, 5, 10]);
    expect(Array.from(await ds.rowIds())).toEqual([2, 3, 5, 0]);
    expect(await seqs(await open(storage, 1))).toEqual([0, 1, 2, 3, 4, 5]);
    await ds.close();
  });
});
