import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { emptyManifest, versionKey, type Manifest } from '../../src/format/manifest.js';
import { LATEST_KEY } from '../../src/format/object-keys.js';
import { readAnyManifest, readLatestAnyManifest } from '../../src/format/latest.js';
import { isV2, type ManifestV2 } from '../../src/format/manifest-v2.js';
import { Transaction } from '../../src/format/transaction.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import { publishManifest } from '../../src/format/versions.js';
import { vacuum } from '../../src/format/vacuum.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';
import { SCHEMA, createV2 } from './v2-helpers.js';
import { CountingStorage } from '../helpers/counting-storage.js';
import { coreOf } from '../../src/dataset/internal.js';

const u32 = (n: number) => ({ bytes: new Uint8Array(new Uint32Array([n]).buffer), shape: [] });
const vec = (r: number) => ({ bytes: new Uint8Array(new Float32Array([r, -r]).buffer), shape: [2] });

async function open(storage: Storage, version?: number): Promise<VersionReader> {
  const m = version === undefined ? await readLatestAnyManifest(storage) : await readAnyManifest(storage, version);
  return new VersionReader(storage, m);
}

async function seqs(v: VersionReader): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for await (const r of new VersionColumnReader(v, v.column('seq')).scan())
    for (const s of r.samples) out.push(s ? new DataView(s.bytes.buffer, s.bytes.byteOffset).getUint32(0, true) : null);
  return out;
}

async function appendRows(storage: Storage, from: number, n: number, options = {}): Promise<ManifestV2> {
  const txn = new TransactionV2(storage, await open(storage), { writer: 't', chunkSizeBytes: 64, ...options });
  for (let i = from; i < from + n; i++)
    await txn.appendRow({ data: { bytes: new Uint8Array(i % 7).fill(i), shape: [i % 7] }, seq: u32(i) });
  return (await txn.commit(`rows ${from}..`)) as ManifestV2;
}

describe.each(BACKENDS)('format v2 round trip (%s)', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend.stop();
  });

  it('appends, fills and metadata across versions; time travel gives each version its rows', async () => {
    const storage = await backend.open(backend.uri());
    await createV2(storage);
    for (let c = 0; c < 5; c++) await appendRows(storage, c * 10, 10);
    const fill = new TransactionV2(storage, await open(storage), { writer: 't' });
    await fill.fillRows(
      'emb',
      15,
      Array.from({ length: 20 }, (_, k) => vec(15 + k)),
    );
    fill.setMeta({ note: 'filled' });
    const m = await fill.commit('fill');
    expect(m.version).toBe(6);
    const v = await open(storage);
    expect(isV2(v.manifest)).toBe(true);
    expect(v.length).toBe(50);
    expect(await seqs(v)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const data = new VersionColumnReader(v, v.column('data'));
    for (let i = 0; i < 50; i++) expect(Array.from((await data.sample(i))!.bytes)).toEqual(new Array(i % 7).fill(i));
    const emb = new VersionColumnReader(v, v.column('emb'));
    for (let i = 0; i < 50; i++) {
      const s = await emb.sample(i);
      if (i < 15 || i >= 35) expect(s).toBeNull();
      else expect(Array.from(new Float32Array(s!.bytes.slice().buffer))).toEqual([i, -i]);
    }
    expect(await emb.storedLength()).toBe(0);
    expect(v.meta).toEqual({ note: 'filled' });
    for (let version = 0; version <= 5; version++) expect((await open(storage, version)).length).toBe(version * 10);
    expect(await seqs(await open(storage, 3))).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await storage.close();
  });

  it('the Dataset API writes v2 and reads it back', async () => {
    const uri = backend.uri();
    const ds = await Dataset.create(uri, {
      schema: { label: 'text', n: { htype: 'generic', dtype: 'int32' } },
      ...backend.options,
    });
    await ds.append([
      { label: 'a', n: 1 },
      { label: 'b', n: 2 },
    ]);
    await ds.commit('one');
    await ds.append({ label: 'c', n: 3 });
    await ds.commit('two');
    const again = await Dataset.open(uri, backend.options);
    expect(again.version).toBe(2);
    expect(await again.toArray()).toEqual([
      { label: 'a', n: 1 },
      { label: 'b', n: 2 },
      { label: 'c', n: 3 },
    ]);
    expect(isV2(coreOf(again).version.manifest)).toBe(true);
    await again.close();
    await ds.close();
  });
});

describe('format v2 on memory storage', () => {
  it('opens with about 3 requests through the hint; stale, missing and damaged hints still find the latest', async () => {
    const storage = await openStorage('memory://v2-hint');
    await createV2(storage);
    for (let c = 0; c < 6; c++) await appendRows(storage, c * 2, 2);
    const stats = storage.stats;
    const counting = new CountingStorage(storage);
    const lists = stats.lists;
    expect((await readLatestAnyManifest(counting)).version).toBe(6);
    expect(counting.reads).toEqual([LATEST_KEY, versionKey(6), versionKey(7)]); // hint, manifest, probe
    expect(stats.lists - lists).toBe(0);

    const stale = await storage.get(LATEST_KEY);
    await appendRows(storage, 12, 2);
    await appendRows(storage, 14, 2);
    await storage.put(LATEST_KEY, stale); // a writer died between publishing and writing the hint
    expect((await readLatestAnyManifest(storage)).version).toBe(8);

    const damaged = stale.slice();
    damaged[5] ^= 1;
    await storage.put(LATEST_KEY, damaged);
    const b2 = stats.lists;
    expect((await readLatestAnyManifest(storage)).version).toBe(8);
    expect(stats.lists - b2).toBe(1);

    await storage.delete(LATEST_KEY);
    expect((await readLatestAnyManifest(storage)).version).toBe(8);
    await storage.close();
  });

  it('a damaged manifest, fragment or page raises CORRUPT naming the key', async () => {
    const storage = await openStorage('memory://v2-crc');
    await createV2(storage);
    for (let c = 0; c < 260; c++) await appendRows(storage, c, 1);
    const m = (await readLatestAnyManifest(storage)) as ManifestV2;
    expect(m.fragments.pages).toHaveLength(1);
    expect(m.fragments.tail).toHaveLength(4);
    const flip = async (key: string) => {
      const bytes = (await storage.get(key)).slice();
      bytes[bytes.length >> 1] ^= 0x08;
      await storage.put(key, bytes);
      return bytes;
    };
    await flip(m.fragments.tail[0].key);
    const v = await open(storage);
    const seq = new VersionColumnReader(v, v.column('seq'));
    await expect(seq.sample(256)).rejects.toMatchObject({ code: 'CORRUPT', details: { key: m.fragments.tail[0].key } });
    await flip(m.fragments.pages[0].key);
    await expect(new VersionColumnReader(v, v.column('seq')).sample(3)).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { key: m.fragments.pages[0].key },
    });
    await flip(versionKey(m.version));
    await expect(readAnyManifest(storage, m.version)).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { key: versionKey(m.version) },
    });
    await storage.close();
  });

  it('concurrent commits rebase when they commute and get CONFLICT naming what collided when not', async () => {
    const storage = await openStorage('memory://v2-rebase');
    await createV2(storage);
    await appendRows(storage, 0, 10, { maxFragmentRows: 5 }); // fragments 0 and 1
    const start = async () => new TransactionV2(storage, await open(storage), { writer: 't' });
    // fill of fragment 0 vs fill of fragment 1 vs append vs metadata keys
    const [a, b, c, d] = [await start(), await start(), await start(), await start()];
    await a.fillRows('emb', 0, [vec(0), vec(1), vec(2), vec(3), vec(4)]);
    await b.fillRows('emb', 5, [vec(5), vec(6), vec(7), vec(8), vec(9)]);
    await c.appendRow({ data: { bytes: new Uint8Array([1]), shape: [1] }, seq: u32(10) });
    d.setMeta({ k1: 1 });
    await a.commit('a');
    await b.commit('b');
    await c.commit('c');
    await d.commit('d');
    const v = await open(storage);
    expect(v.version).toBe(5);
    expect(await new VersionColumnReader(v, v.column('emb')).storedLength()).toBe(10);
    expect(v.meta).toEqual({ k1: 1 });
    // same metadata key, different values → CONFLICT naming it
    const [e, f] = [await start(), await start()];
    e.setMeta({ ...e.base.meta, k2: 'e' });
    f.setMeta({ ...f.base.meta, k2: 'f' });
    await e.commit('e');
    await expect(f.commit('f')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('k2') as string,
    });
    // the same fragment and column filled twice → CONFLICT
    const [g, h] = [await start(), await start()];
    await g.fillRows('emb', 10, [vec(10)]);
    await h.fillRows('emb', 10, [vec(10)]);
    await g.commit('g');
    await expect(h.commit('h')).rejects.toMatchObject({ code: 'CONFLICT' });
    // identical addColumn merges; different specs conflict
    const [i, j, k] = [await start(), await start(), await start()];
    const spec = {
      name: 'extra',
      htype: 'text',
      dtype: 'json' as const,
      sampleCompression: 'none' as const,
      chunkCompression: 'lz4' as const,
      meta: {},
    };
    i.addColumn(spec);
    j.addColumn(spec);
    k.addColumn({ ...spec, meta: { other: true } });
    await i.commit('i');
    await j.commit('j');
    await expect(k.commit('k')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await open(storage)).schema.filter((x) => x.name === 'extra')).toHaveLength(1);
    await storage.close();
  });

  it('class names added by one writer while another appends merge as a union', async () => {
    const storage = await openStorage('memory://v2-classes');
    const ds = await Dataset.create('memory://v2-classes', {
      storage,
      schema: { label: { htype: 'class_label', classNames: ['cat'] } },
    });
    const other = await Dataset.open('memory://v2-classes', { storage });
    await ds.append({ label: 'dog' });
    await other.append({ label: 'cat' });
    await ds.commit('dog');
    await other.commit('cat');
    const latest = await Dataset.open('memory://v2-classes', { storage });
    expect(latest.columnMeta('label').classNames).toEqual(['cat', 'dog']);
    expect(await latest.values('label')).toEqual(['dog', 'cat']);
  });

  it('a v1 dataset opens, reads identically, and its first write publishes v2 referencing the v1 chunks', async () => {
    const storage = await openStorage('memory://v2-migrate');
    const v1: Manifest = {
      ...emptyManifest('v1'),
      columns: SCHEMA.slice(0, 2).map((c, n) => ({ ...c, id: `c${n}`, length: 0, chunks: [] })),
    };
    await publishManifest(storage, v1);
    let m = v1;
    for (let c = 0; c < 3; c++) {
      const txn = new Transaction(storage, m, { writer: 'v1', chunkSizeBytes: 64 });
      for (let i = c * 8; i < c * 8 + 8; i++)
        await txn.appendRow({ data: { bytes: new Uint8Array([i, i]), shape: [2] }, seq: u32(i) });
      m = await txn.commit(`v1 ${c}`);
    }
    const v1Chunks = m.columns.flatMap((c) => c.chunks.map((k) => k.key));
    const before = await open(storage);
    expect(isV2(before.manifest)).toBe(false);
    expect(await seqs(before)).toEqual(Array.from({ length: 24 }, (_, i) => i));

    const ds = await Dataset.open('memory://v2-migrate', { storage });
    expect(ds.length).toBe(24);
    await ds.append({ data: new Uint8Array([24, 24]), seq: 24 });
    await ds.commit('first v2 write');
    const after = await open(storage);
    expect(isV2(after.manifest)).toBe(true);
    expect(after.version).toBe(4);
    expect(await seqs(after)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const frag0 = await after.fragment((await after.slotAt(0)).ref);
    expect(Object.values(frag0.columns).flatMap((s) => s.flatMap((x) => x.chunks.map((k) => k.key)))).toEqual(v1Chunks);
    expect(await seqs(await open(storage, 3))).toEqual(Array.from({ length: 24 }, (_, i) => i)); // v1 version still reads
    await ds.close();
  });

  it('vacuum keeps every fragment, page and chunk of retained versions and deletes replaced ones', async () => {
    const storage = await openStorage('memory://v2-vacuum');
    await createV2(storage);
    for (let c = 0; c < 300; c++) await appendRows(storage, c, 1);
    const fill = new TransactionV2(storage, await open(storage), { writer: 't' });
    await fill.fillRows(
      'emb',
      0,
      Array.from({ length: 300 }, (_, r) => vec(r)),
    );
    await fill.commit('fill all');
    const latestVersion = (await open(storage)).version;
    await new Promise((r) => setTimeout(r, 5));
    const result = await vacuum(storage, { retentionMs: 0 });
    expect(result.versionsDeleted.length).toBe(latestVersion);
    const replaced = (await storage.list('fragments/')).length;
    expect(replaced).toBe(300); // the 300 pre-fill fragment files are gone, the filled copies stay
    const v = await open(storage);
    expect(await seqs(v)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const emb = new VersionColumnReader(v, v.column('emb'));
    for (const r of [0, 150, 299])
      expect(Array.from(new Float32Array((await emb.sample(r))!.bytes.slice().buffer))).toEqual([r, -r]);
    expect(result.chunksDeleted).toBeGreaterThanOrEqual(300);
    await storage.close();
  });
});
