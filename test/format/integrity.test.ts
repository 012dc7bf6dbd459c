import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { type Manifest, decodeManifest, encodeManifest, versionKey } from '../../src/format/manifest.js';
import { readManifest } from '../../src/format/versions.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { copyAsV1 } from './fixtures/v1-copy.js';
import { type FragmentFile, encodeFragment } from '../../src/format/fragment.js';
import { readAnyManifest } from '../../src/format/latest.js';
import { VersionReader } from '../../src/format/version-reader.js';

/**
 * A committed v1 dataset (the format these checks guard when such a dataset is opened) with a text,
 * a float32 and an uncompressed uint8 column, in two versions.
 */
async function twoVersions(): Promise<{ storage: MemoryStorage; uri: string; v1: Manifest; v2: Manifest }> {
  const written = `memory://integrity-v2-${randomBytes(6).toString('hex')}`;
  const uri = `memory://integrity-${randomBytes(6).toString('hex')}`;
  const ds = await Dataset.create(written, {
    schema: { t: 'text', f: 'float32', raw: { htype: 'generic', dtype: 'uint8', chunkCompression: 'none' } },
  });
  await ds.extend({ t: ['a', 'bb', 'ccc'], f: [1.5, 2.5, 3.5], raw: [[1, 2], [3, 4], [5]] });
  await ds.commit('three');
  await ds.extend({ t: ['dddd', 'e'], f: [4.5, 5.5], raw: [[6], [7, 8, 9]] });
  await ds.commit('five');
  await ds.close();
  const storage = new MemoryStorage(uri.slice('memory://'.length));
  await copyAsV1(new MemoryStorage(written.slice('memory://'.length)), storage, [0, 1, 2]);
  return { storage, uri, v1: await readManifest(storage, 1), v2: await readManifest(storage, 2) };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** Rewrites version `m.version` as a (buggy or hostile) writer would: valid JSON, valid checksum. */
async function rewrite(storage: MemoryStorage, m: Manifest, edit: (m: Mutable<Manifest>) => void): Promise<void> {
  const copy = structuredClone(m) as Mutable<Manifest>;
  edit(copy);
  await storage.put(versionKey(m.version), encodeManifest(copy));
}

const col = (m: Mutable<Manifest>, name: string) => m.columns.find((c) => c.name === name)!;

describe('chunks are checked against their manifest entry', () => {
  it("a manifest naming another version's chunk is CORRUPT naming the chunk, not wrong values", async () => {
    const { storage, uri, v1, v2 } = await twoVersions();
    const old = v1.columns.find((c) => c.name === 't')!.chunks[0];
    // v2's last chunk (rows 3-4) keeps its own sample count and sizes but names v1's three-sample chunk.
    expect(v2.columns.find((c) => c.name === 't')!.chunks.at(-1)!.samples).not.toBe(old.samples);
    await rewrite(storage, v2, (m) => {
      col(m, 't').chunks.at(-1)!.key = old.key;
    });
    const ds = await Dataset.open(uri);
    await expect(ds.values('t')).rejects.toMatchObject({ code: 'CORRUPT', details: { key: old.key, column: 't' } });
    await expect(ds.row(4)).rejects.toMatchObject({ code: 'CORRUPT', details: { key: old.key } });
  });

  it('a float32 chunk named by a text column is CORRUPT, not garbage strings', async () => {
    const { storage, uri, v2 } = await twoVersions();
    const fs = v2.columns.find((c) => c.name === 'f')!.chunks;
    const f = fs[0];
    await rewrite(storage, v2, (m) => {
      col(m, 't').chunks = fs.map((k) => ({ ...k }));
    });
    const ds = await Dataset.open(uri);
    await expect(ds.values('t')).rejects.toMatchObject({ code: 'CORRUPT', details: { key: f.key, column: 't' } });
    await expect(ds.row(0)).rejects.toMatchObject({ code: 'CORRUPT', details: { key: f.key } });
  });

  it('a truncated chunk is CORRUPT on whole, header and ranged sample reads', async () => {
    for (const cut of ['payload', 'header'] as const) {
      const { storage, uri, v2 } = await twoVersions();
      for (const name of ['t', 'raw']) {
        const ref = v2.columns.find((c) => c.name === name)!.chunks.at(-1)!; // holds row 4
        const bytes = await storage.get(ref.key);
        await storage.put(ref.key, bytes.subarray(0, cut === 'payload' ? ref.bytes - 6 : ref.headerBytes - 3));
      }
      const ds = await Dataset.open(uri);
      for (const name of ['t', 'raw']) {
        await expect(ds.row(4)).rejects.toMatchObject({ code: 'CORRUPT' });
        await expect(ds.values(name)).rejects.toMatchObject({ code: 'CORRUPT', details: { column: name } });
        const again = await Dataset.open(uri);
        await expect(again.select([name]).row(4)).rejects.toMatchObject({ code: 'CORRUPT', details: { column: name } });
      }
    }
  });
});

describe('manifests are validated when read', () => {
  it('chunk keys that are absolute, contain .. or leave chunks/ are CORRUPT at open', async () => {
    for (const key of ['/etc/passwd', 'chunks/../versions/00000000000000000001.json', '../x.chunk', 'chunks//a']) {
      const { storage, uri, v2 } = await twoVersions();
      await rewrite(storage, v2, (m) => {
        col(m, 't').chunks[0].key = key;
      });
      await expect(Dataset.open(uri)).rejects.toMatchObject({ code: 'CORRUPT', details: { key: versionKey(2) } });
    }
  });

  it('a column with no chunk list, or a length its chunks disagree with, is CORRUPT at open', async () => {
    const edits: ((m: Mutable<Manifest>) => void)[] = [
      (m) => {
        delete (col(m, 'f') as { chunks?: unknown }).chunks;
      },
      (m) => {
        col(m, 'f').length = 4;
      },
      (m) => {
        col(m, 'f').length = 7;
        m.length = 7;
      },
      (m) => {
        col(m, 'f').chunks[0].samples = 1;
      },
      (m) => {
        col(m, 'f').dtype = 'float128' as never;
      },
      (m) => {
        (m as { columns: unknown }).columns = {};
      },
    ];
    for (const edit of edits) {
      const { storage, uri, v2 } = await twoVersions();
      await rewrite(storage, v2, edit);
      await expect(Dataset.open(uri)).rejects.toMatchObject({ code: 'CORRUPT', details: { key: versionKey(2) } });
    }
  });

  it('new manifests carry a checksum that detects a changed digit; old ones without it still open', async () => {
    const { storage, uri, v2 } = await twoVersions();
    const text = new TextDecoder().decode(await storage.get(versionKey(2)));
    expect(v2.checksum).toMatch(/^crc32c:[0-9a-f]{8}$/);
    expect(text.endsWith(`,"checksum":"${v2.checksum}"}`)).toBe(true);
    // "samples":2 → "samples":3 keeps the JSON valid; only the checksum can tell.
    const flipped = text.replace(/"samples":(\d+)/, (_, n: string) => `"samples":${Number(n) + 1}`);
    expect(flipped).not.toBe(text);
    const damaged = new TextEncoder().encode(flipped);
    expect(() => decodeManifest(damaged, versionKey(2))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    // A pre-checksum manifest (as written by earlier Strata versions) opens and reads.
    const { checksum: _c, ...old } = v2;
    await storage.put(versionKey(2), new TextEncoder().encode(JSON.stringify(old)));
    const ds = await Dataset.open(uri);
    expect(await ds.values('t')).toEqual(['a', 'bb', 'ccc', 'dddd', 'e']);
  });
});

describe('v2 fragment files are validated when read', () => {
  it('a chunk key that is absolute, has .. or leaves chunks/, or a segment its chunks disagree with, is CORRUPT naming the fragment', async () => {
    const edits: ((f: Mutable<FragmentFile>, id: string) => void)[] = [
      (f, id) => {
        f.columns[id][0].chunks[0].key = '/etc/passwd';
      },
      (f, id) => {
        f.columns[id][0].chunks[0].key = 'chunks/../versions/00000000000000000001.json';
      },
      (f, id) => {
        f.columns[id][0].chunks[0].key = 'indexes/x.chunk';
      },
      (f, id) => {
        f.columns[id][0].rows += 1;
      },
      (f, id) => {
        f.columns[id][0].offset = f.rows;
      },
      (f, id) => {
        delete (f.columns[id][0] as { chunks?: unknown }).chunks;
      },
    ];
    for (const edit of edits) {
      const uri = `memory://integrity-frag-${randomBytes(6).toString('hex')}`;
      const ds = await Dataset.create(uri, { schema: { t: 'text' } });
      await ds.extend({ t: ['a', 'bb', 'ccc'] });
      await ds.commit('three');
      await ds.close();
      const storage = new MemoryStorage(uri.slice('memory://'.length));
      const reader = new VersionReader(storage, await readAnyManifest(storage, 1));
      const [slot] = await reader.allFragments();
      const file = structuredClone(await reader.fragment(slot.ref)) as Mutable<FragmentFile>;
      edit(file, reader.column('t').id);
      await storage.put(slot.ref.key, encodeFragment(file));
      const opened = await Dataset.open(uri);
      await expect(opened.values('t')).rejects.toMatchObject({ code: 'CORRUPT', details: { key: slot.ref.key } });
    }
  });
});
