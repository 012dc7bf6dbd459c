import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnyManifest, readLatestAnyManifest } from '../../src/format/latest.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { rng } from '../helpers/random.js';
import { rowBytes } from './fixtures/writer.js';
import { createV2 } from './v2-helpers.js';
import { killDuring } from './fixtures/run-writer.js';

/** Every live row of version `v` is whole and correct, and its row ids are distinct. */
async function verify(storage: Storage, v: VersionReader): Promise<void> {
  const seqs: number[] = [];
  for await (const run of new VersionColumnReader(v, v.column('seq')).scan())
    for (const s of run.samples) seqs.push(new DataView(s!.bytes.buffer, s!.bytes.byteOffset).getUint32(0, true));
  let i = 0;
  for await (const run of new VersionColumnReader(v, v.column('data')).scan()) {
    for (const s of run.samples) {
      const view = new DataView(s!.bytes.buffer, s!.bytes.byteOffset);
      const [w, q] = [view.getUint32(0, true), view.getUint32(4, true)];
      expect(Buffer.from(s!.bytes).equals(Buffer.from(rowBytes(w, q))), `row ${i}`).toBe(true);
      expect(seqs[i]).toBe(q);
      i++;
    }
  }
  expect(i).toBe(v.length);
  expect(seqs.length).toBe(v.length);
  const ids: number[] = [];
  for (const slot of await v.allFragments()) ids.push(...(await v.rowIdsOf(slot)));
  expect(ids.length).toBe(v.length);
  expect(new Set(ids).size).toBe(ids.length);
  for (const [p, id] of ids.entries()) if (p % 7 === 0) expect(await v.positionOf(id)).toBe(p);
}

describe('SIGKILL during delete and update commits (local storage, real processes)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-del-crash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('20 kills of a writer deleting, updating and appending: every version reopens whole', async () => {
    const uri = path.join(dir, 'churn');
    const storage = await openStorage(uri);
    await createV2(storage);
    const r = rng('delete-kills');
    let kills = 0;
    let lastVersion = 0;
    for (let round = 0; round < 20; round++) {
      if (await killDuring(uri, ['churn', round + 1, 100_000], 50 + Math.floor(r() * 400))) kills++;
      const v = new VersionReader(storage, await readLatestAnyManifest(storage));
      expect(v.version).toBeGreaterThanOrEqual(lastVersion);
      await verify(storage, v);
      lastVersion = v.version;
    }
    expect(kills).toBeGreaterThanOrEqual(15);
    expect(lastVersion).toBeGreaterThan(5);
    // time travel: every committed version still reads whole
    for (let version = 1; version <= lastVersion; version += Math.max(1, Math.floor(lastVersion / 4)))
      await verify(storage, new VersionReader(storage, await readAnyManifest(storage, version)));
    await storage.close();
  }, 300_000);
});
