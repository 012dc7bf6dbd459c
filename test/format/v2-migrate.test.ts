import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { readLatestAnyManifest } from '../../src/format/latest.js';
import { isV2 } from '../../src/format/manifest-v2.js';
import { emptyManifest, type Manifest } from '../../src/format/manifest.js';
import { Transaction } from '../../src/format/transaction.js';
import { publishManifest } from '../../src/format/versions.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { strata } from '../cli/run-cli.js';
import { SCHEMA } from './v2-helpers.js';

const u32 = (n: number) => ({ bytes: new Uint8Array(new Uint32Array([n]).buffer), shape: [] });

/** A v1 dataset written by the v1 writer: 3 commits of 8 rows, small chunks. */
async function writeV1(storage: Storage): Promise<Manifest> {
  let m: Manifest = {
    ...emptyManifest('v1'),
    columns: SCHEMA.slice(0, 2).map((c, n) => ({ ...c, id: `c${n}`, length: 0, chunks: [] })),
  };
  await publishManifest(storage, m);
  for (let c = 0; c < 3; c++) {
    const txn = new Transaction(storage, m, { writer: 'v1', chunkSizeBytes: 64 });
    for (let i = c * 8; i < c * 8 + 8; i++)
      await txn.appendRow({ data: { bytes: new Uint8Array(i % 5).fill(i), shape: [i % 5] }, seq: u32(i) });
    m = await txn.commit(`v1 ${c}`);
  }
  return m;
}

async function contents(uri: string, storage: Storage, version?: number) {
  const ds = await Dataset.open(uri, { storage, version });
  const out = { length: ds.length, data: await ds.values('data'), seq: await ds.values('seq') };
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-migrate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('migrating a v1 dataset to format v2', () => {
  it('Dataset.migrate: reads identically before and after, copies no chunk, and a second migrate is a no-op', async () => {
    const uri = path.join(dir, 'api');
    const storage = await openStorage(uri);
    const v1 = await writeV1(storage);
    const before = await contents(uri, storage);
    expect(before.length).toBe(24);
    expect(before.seq).toEqual(Array.from({ length: 24 }, (_, i) => i));
    const chunks = (await storage.list('chunks/')).sort();
    const objects = (await storage.list('')).length;

    const r = await Dataset.migrate(uri);
    expect(r).toEqual({ version: v1.version + 1, migrated: true });
    const m = await readLatestAnyManifest(storage);
    expect(isV2(m)).toBe(true);
    expect((await storage.list('chunks/')).sort()).toEqual(chunks);
    // one fragment file, one manifest and the latest hint: nothing else was written
    expect((await storage.list('')).length).toBe(objects + 3);
    expect(await contents(uri, storage)).toEqual(before);
    expect(await contents(uri, storage, v1.version)).toEqual(before); // the v1 version still reads

    expect(await Dataset.migrate(uri)).toEqual({ version: v1.version + 1, migrated: false });
    expect((await storage.list('')).length).toBe(objects + 3);
    await storage.close();
  });

  it('strata migrate <uri> upgrades, then reports there is nothing to do', async () => {
    const uri = path.join(dir, 'cli');
    const storage = await openStorage(uri);
    await writeV1(storage);
    const before = await contents(uri, storage);
    const first = await strata(['migrate', uri, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ migrated: true, version: 4 });
    expect(isV2(await readLatestAnyManifest(storage))).toBe(true);
    expect(await contents(uri, storage)).toEqual(before);
    const second = await strata(['migrate', uri]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('nothing to do');
    expect((await readLatestAnyManifest(storage)).version).toBe(4);
    await storage.close();
  }, 60_000);
});
