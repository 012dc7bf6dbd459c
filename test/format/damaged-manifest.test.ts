import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { versionKey } from '../../src/format/manifest.js';
import { MemoryStorage } from '../../src/storage/memory.js';

/** Versions 0..3 of a one-column dataset, each commit appending one row. */
async function fourVersions(): Promise<{ uri: string; storage: MemoryStorage }> {
  const name = `damaged-${randomBytes(6).toString('hex')}`;
  const ds = await Dataset.create(`memory://${name}`, { schema: { t: 'text' }, chunkSizeBytes: 64 });
  for (const t of ['a', 'b', 'c']) {
    await ds.append({ t });
    await ds.commit(`add ${t}`);
  }
  await ds.close();
  return { uri: `memory://${name}`, storage: new MemoryStorage(name) };
}

const ORPHAN = 'chunks/c0/000000000001-0123456789abcdef.chunk'; // unreferenced, written in 1970

describe('one damaged old manifest', () => {
  it('versions() lists it with a typed error naming the version, and every other version', async () => {
    const { uri, storage } = await fourVersions();
    await storage.put(versionKey(1), new TextEncoder().encode('{"format":"strata-dataset", trunc'));
    await storage.put(
      versionKey(2),
      new TextEncoder().encode(JSON.stringify({ format: 'strata-dataset', formatVersion: 99 })),
    );
    const ds = await Dataset.open(uri);
    const versions = await ds.versions();
    expect(versions.map((v) => v.version)).toEqual([0, 1, 2, 3]);
    expect(versions[0]).toMatchObject({ message: 'create', length: 0 });
    expect(versions[1].error).toMatchObject({ code: 'CORRUPT', details: { version: 1, key: versionKey(1) } });
    expect(versions[2].error).toMatchObject({ code: 'UNSUPPORTED', details: { version: 2 } });
    expect(versions[3]).toMatchObject({ message: 'add c', length: 3 });
    expect(versions[3].error).toBeUndefined();
    await expect(ds.checkout(1)).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(await (await ds.checkout(0)).values('t')).toEqual([]);
  });

  it('vacuum() carries on: reports it, keeps it, deletes old readable versions but no chunk', async () => {
    const { uri, storage } = await fourVersions();
    await storage.put(versionKey(1), new TextEncoder().encode('not json'));
    await storage.put(ORPHAN, new Uint8Array(64));
    const chunksBefore = await storage.list('chunks/');
    const ds = await Dataset.open(uri);
    const result = await ds.vacuum({ retentionMs: -1 });
    expect(result.damagedVersions).toHaveLength(1);
    expect(result.damagedVersions[0]).toMatchObject({ version: 1, error: { code: 'CORRUPT' } });
    expect(result.versionsDeleted).toEqual([0, 2]);
    expect(result.chunksDeleted).toBe(0);
    expect(await storage.list('chunks/')).toEqual(chunksBefore);
    expect(await storage.list('versions/')).toEqual([versionKey(1), versionKey(3)]);
    expect(await (await Dataset.open(uri)).values('t')).toEqual(['a', 'b', 'c']);

    // Once the damaged manifest is removed (or restored), unreferenced chunks are collected again.
    await storage.delete(versionKey(1));
    const again = await ds.vacuum({ retentionMs: -1 });
    expect(again.damagedVersions).toEqual([]);
    expect(again.chunksDeleted).toBeGreaterThan(0);
    expect(await storage.exists(ORPHAN)).toBe(false);
    expect(await (await Dataset.open(uri)).values('t')).toEqual(['a', 'b', 'c']);
  });
});
