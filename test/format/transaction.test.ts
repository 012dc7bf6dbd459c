import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sample } from '../../src/format/chunk.js';
import { ColumnReader } from '../../src/format/column-reader.js';
import { type Manifest, emptyManifest } from '../../src/format/manifest.js';
import { Transaction } from '../../src/format/transaction.js';
import { listVersions, publishManifest, readLatestManifest, readManifest } from '../../src/format/versions.js';
import { vacuum } from '../../src/format/vacuum.js';
import { DTYPES, type DType } from '../../src/format/dtype.js';
import type { Storage } from '../../src/storage/storage.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';
import { randomSample, rng } from '../helpers/random.js';

async function createDataset(
  storage: Storage,
  dtype: DType,
  codec: 'none' | 'lz4' | 'zstd' = 'lz4',
): Promise<Manifest> {
  const m: Manifest = {
    ...emptyManifest('test'),
    columns: [
      {
        name: 'x',
        id: 'c0',
        htype: 'generic',
        dtype,
        sampleCompression: 'none',
        chunkCompression: codec,
        meta: {},
        length: 0,
        chunks: [],
      },
    ],
  };
  await publishManifest(storage, m);
  return m;
}

describe.each(BACKENDS)('commits on %s', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('round-trips random dtypes and shapes around chunk boundaries', async () => {
    const r = rng(`rt-${name}`);
    for (const dtype of DTYPES) {
      const storage = await backend.open(backend.uri());
      const codec = (['none', 'lz4', 'zstd'] as const)[Math.floor(r() * 3)];
      const base = await createDataset(storage, dtype, codec);
      const chunkSizeBytes = 64 + Math.floor(r() * 256);
      const txn = new Transaction(storage, base, { writer: 'test', chunkSizeBytes });
      const expected: (Sample | null)[] = [];
      const n = 20 + Math.floor(r() * 40);
      for (let i = 0; i < n; i++) {
        const shape = r() < 0.1 ? [0] : r() < 0.2 ? [] : [1 + Math.floor(r() * 5), 1 + Math.floor(r() * 7)];
        const s =
          r() < 0.1 ? null : r() < 0.05 ? randomSample(r, dtype, [chunkSizeBytes + 13]) : randomSample(r, dtype, shape);
        expected.push(s);
        await txn.appendRow({ x: s });
      }
      const m = await txn.commit('data');
      expect(m.length).toBe(n);
      expect(m.columns[0].chunks.length).toBeGreaterThan(1);
      const reader = new ColumnReader(storage, (await readLatestManifest(storage)).columns[0]);
      // random access
      for (let i = 0; i < n; i++) {
        const got = await reader.sample(i);
        const want = expected[i];
        if (want === null) expect(got).toBeNull();
        else expect(Buffer.from(got!.bytes).equals(Buffer.from(want.bytes)), `${dtype} row ${i}`).toBe(true);
      }
      // sequential scan from an offset
      const start = Math.floor(n / 3);
      let i = start;
      for await (const run of reader.scan(start, n)) {
        for (const s of run.samples) {
          const want = expected[i++];
          expect(s === null ? null : Buffer.from(s.bytes).toString('hex')).toBe(
            want === null ? null : Buffer.from(want.bytes).toString('hex'),
          );
        }
      }
      expect(i).toBe(n);
      await storage.close();
    }
  });

  it('publishes versions atomically and reads any past version', async () => {
    const storage = await backend.open(backend.uri());
    const base = await createDataset(storage, 'int32');
    let m = base;
    for (let v = 1; v <= 3; v++) {
      const txn = new Transaction(storage, m, { writer: 'test' });
      for (let i = 0; i < v; i++)
        await txn.appendRow({ x: { bytes: new Uint8Array(new Int32Array([v * 10 + i]).buffer), shape: [] } });
      m = await txn.commit(`v${v}`);
    }
    expect((await listVersions(storage)).map((v) => [v.version, v.length, v.message])).toEqual([
      [0, 0, 'create'],
      [1, 1, 'v1'],
      [2, 3, 'v2'],
      [3, 6, 'v3'],
    ]);
    const v2 = await readManifest(storage, 2);
    expect(v2.length).toBe(3);
    // small appends were merged into the tail chunk instead of one chunk per commit
    expect(m.columns[0].chunks.length).toBe(1);
    await expect(readManifest(storage, 9)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await storage.close();
  });

  it('a losing schema change gets CONFLICT; a losing pure append is rebased', async () => {
    const storage = await backend.open(backend.uri());
    const base = await createDataset(storage, 'int32');
    const row = (v: number) => ({ x: { bytes: new Uint8Array(new Int32Array([v]).buffer), shape: [] } });
    const a = new Transaction(storage, base, { writer: 'a' });
    const b = new Transaction(storage, base, { writer: 'b' });
    await a.appendRow(row(1));
    await b.appendRow(row(2));
    await b.appendRow(row(3));
    await a.commit('a');
    const mb = await b.commit('b');
    expect(mb.version).toBe(2);
    expect(mb.length).toBe(3);
    const reader = new ColumnReader(storage, mb.columns[0]);
    const vals = [];
    for (let i = 0; i < 3; i++) vals.push(new Int32Array((await reader.sample(i))!.bytes.slice().buffer)[0]);
    expect(vals).toEqual([1, 2, 3]);
    const c = new Transaction(storage, mb, { writer: 'c' });
    const d = new Transaction(storage, mb, { writer: 'd' });
    c.addColumn({
      name: 'y',
      htype: 'text',
      dtype: 'string',
      sampleCompression: 'none',
      chunkCompression: 'lz4',
      meta: {},
    });
    d.addColumn({
      name: 'z',
      htype: 'text',
      dtype: 'string',
      sampleCompression: 'none',
      chunkCompression: 'lz4',
      meta: {},
    });
    await c.commit('c');
    await expect(d.commit('d')).rejects.toMatchObject({ code: 'CONFLICT' });
    await storage.close();
  });

  it('vacuum deletes unreferenced chunks and old versions, keeping the latest readable', async () => {
    const storage = await backend.open(backend.uri());
    let m = await createDataset(storage, 'uint8', 'none');
    for (let v = 0; v < 3; v++) {
      const txn = new Transaction(storage, m, { writer: 't', chunkSizeBytes: 16 });
      for (let i = 0; i < 4; i++) await txn.appendRow({ x: { bytes: new Uint8Array(10).fill(v), shape: [10] } });
      m = await txn.commit(`v${v}`);
    }
    const orphan = new Transaction(storage, m, { writer: 't', chunkSizeBytes: 16 });
    for (let i = 0; i < 4; i++) await orphan.appendRow({ x: { bytes: new Uint8Array(10), shape: [10] } });
    await orphan.abandon();
    const fresh = await vacuum(storage, { retentionMs: 60_000 });
    expect(fresh.chunksDeleted).toBe(0); // young garbage may belong to a writer still committing
    const res = await vacuum(storage, { retentionMs: -1 });
    expect(res.versionsDeleted).toEqual([0, 1, 2]);
    expect(res.chunksDeleted).toBeGreaterThan(0);
    const latest = await readLatestManifest(storage);
    const reader = new ColumnReader(storage, latest.columns[0]);
    for (let i = 0; i < latest.length; i++) expect(await reader.sample(i)).not.toBeNull();
    const keys = await storage.list('chunks/');
    expect(keys.length).toBe(latest.columns[0].chunks.length);
    await storage.close();
  });

  it('a missing or damaged chunk raises CORRUPT naming the object, never garbage', async () => {
    const storage = await backend.open(backend.uri());
    const base = await createDataset(storage, 'uint8', 'none');
    const txn = new Transaction(storage, base, { writer: 't' });
    for (let i = 0; i < 5; i++) await txn.appendRow({ x: { bytes: new Uint8Array(1000).fill(i), shape: [1000] } });
    const m = await txn.commit('x');
    const key = m.columns[0].chunks[0].key;
    const bytes = await storage.get(key);
    bytes[bytes.length - 500] ^= 0x40;
    await storage.put(key, bytes);
    const reader = new ColumnReader(storage, m.columns[0]);
    await expect(reader.sample(4)).rejects.toMatchObject({ code: 'CORRUPT', details: { key, column: 'x' } });
    const scan = async () => {
      for await (const _ of reader.scan()) void _;
    };
    await expect(scan()).rejects.toMatchObject({ code: 'CORRUPT' });
    await storage.delete(key);
    await expect(new ColumnReader(storage, m.columns[0]).sample(0)).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { key },
    });
    await storage.close();
  });
});

describe('vacuum of derived objects', () => {
  it('deletes index objects no kept version references, keeps referenced and in-flight ones', async () => {
    const { MemoryStorage } = await import('../../src/storage/memory.js');
    const storage = new MemoryStorage();
    let m = await createDataset(storage, 'int32');
    const row = { x: { bytes: new Uint8Array(4), shape: [] } };
    for (let v = 0; v < 3; v++) {
      const txn = new Transaction(storage, m, { writer: 't' });
      await txn.appendRow(row);
      if (v === 2) txn.setMeta({ indexes: { x: { key: 'indexes/c0-v2-aaaa.hnsw' } } });
      m = await txn.commit(`v${v + 1}`);
    }
    await storage.put('indexes/c0-v1-bbbb.hnsw', new Uint8Array(8)); // built for v1, never published
    await storage.put('indexes/c0-v2-aaaa.hnsw', new Uint8Array(8)); // referenced by v3
    await storage.put('indexes/c0-v3-cccc.hnsw', new Uint8Array(8)); // a createIndex still committing
    await vacuum(storage, { retentionMs: -1 });
    expect(await storage.list('indexes/')).toEqual(['indexes/c0-v2-aaaa.hnsw', 'indexes/c0-v3-cccc.hnsw']);
  });
});
