import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { rowBytes } from './fixtures/writer.js';
import { createV2 } from './v2-helpers.js';
import { rng } from '../helpers/random.js';
import { killDuring, latestVersion, startWriter } from './fixtures/run-writer.js';

/** Every committed row is whole and correct; returns the rows per writer in order. */
async function verify(storage: Storage): Promise<Map<number, number[]>> {
  const v = await latestVersion(storage);
  const seqs: number[] = [];
  for await (const run of new VersionColumnReader(v, v.column('seq')).scan())
    for (const s of run.samples) seqs.push(new DataView(s!.bytes.buffer, s!.bytes.byteOffset).getUint32(0, true));
  expect(seqs.length).toBe(v.length);
  const perWriter = new Map<number, number[]>();
  let i = 0;
  for await (const run of new VersionColumnReader(v, v.column('data')).scan()) {
    for (const s of run.samples) {
      const view = new DataView(s!.bytes.buffer, s!.bytes.byteOffset);
      const w = view.getUint32(0, true);
      const q = view.getUint32(4, true);
      expect(Buffer.from(s!.bytes).equals(Buffer.from(rowBytes(w, q))), `row ${i}`).toBe(true);
      expect(seqs[i]).toBe(q);
      if (!perWriter.has(w)) perWriter.set(w, []);
      perWriter.get(w)!.push(q);
      i++;
    }
  }
  expect(i).toBe(v.length);
  return perWriter;
}

describe('crash safety and concurrent writers (local storage, real processes)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-crash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGKILL at 30 random points leaves the dataset at its last commit, with no partial rows', async () => {
    const uri = path.join(dir, 'killed');
    const storage = await openStorage(uri);
    await createV2(storage);
    const r = rng('kills');
    let kills = 0;
    let lastLength = 0;
    for (let round = 0; round < 30; round++) {
      // Each round resumes where the committed data ends (the writer's seq restarts at 0, so
      // we only check structure and bytes, not continuity, across rounds).
      if (await killDuring(uri, ['append', round, 100_000, 1 + Math.floor(r() * 20)], 20 + Math.floor(r() * 300)))
        kills++;
      const perWriter = await verify(storage);
      const length = (await latestVersion(storage)).length;
      expect(length).toBeGreaterThanOrEqual(lastLength);
      lastLength = length;
      // a writer's rows are a prefix 0..n-1 of its sequence: commits are all-or-nothing
      for (const seqs of perWriter.values()) expect(seqs).toEqual(seqs.map((_, k) => k));
    }
    expect(kills).toBeGreaterThanOrEqual(25);
    expect(lastLength).toBeGreaterThan(0);
    await storage.close();
  }, 300_000);

  it('two writer processes appending concurrently: every row lands exactly once', async () => {
    const uri = path.join(dir, 'concurrent');
    const storage = await openStorage(uri);
    await createV2(storage);
    const a = startWriter(uri, ['append', 1, 100, 3]);
    const b = startWriter(uri, ['append', 2, 60, 5]);
    const [ra, rb] = await Promise.all([a.exit, b.exit]);
    expect(ra.stderr + rb.stderr).toBe('');
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const perWriter = await verify(storage);
    expect(perWriter.get(1)).toEqual(Array.from({ length: 300 }, (_, k) => k));
    expect(perWriter.get(2)).toEqual(Array.from({ length: 300 }, (_, k) => k));
    expect((await latestVersion(storage)).version).toBe(100 + 60);
    await storage.close();
  }, 120_000);
});
