/**
 * SIGKILL during fill, metadata, optimize and migrate commits (test/format/crash.test.ts kills
 * appends): after every kill the dataset reopens at a committed version with every byte checked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isV2 } from '../../src/format/manifest-v2.js';
import { emptyManifest, type Manifest } from '../../src/format/manifest.js';
import { Transaction } from '../../src/format/transaction.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { type VersionReader } from '../../src/format/version-reader.js';
import { publishManifest } from '../../src/format/versions.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { rng } from '../helpers/random.js';
import { rowBytes } from './fixtures/writer.js';
import { fillBytes } from './fixtures/writer-v2.js';
import { SCHEMA, createV2 } from './v2-helpers.js';
import { killDuring, latestVersion } from './fixtures/run-writer.js';

const u32 = (n: number) => ({ bytes: new Uint8Array(new Uint32Array([n]).buffer), shape: [] });

/** Appends rows (writer w, seq from..) in commits of `perCommit` rows, in this process. */
async function appendRows(storage: Storage, w: number, from: number, n: number, perCommit: number): Promise<void> {
  for (let s = from; s < from + n; s += perCommit) {
    const txn = new TransactionV2(storage, await latestVersion(storage), { writer: 'seed', chunkSizeBytes: 256 });
    for (let q = s; q < Math.min(from + n, s + perCommit); q++) {
      const bytes = rowBytes(w, q);
      await txn.appendRow({ data: { bytes, shape: [bytes.length] }, seq: u32(q) });
    }
    await txn.commit(`seed ${s}`);
  }
}

/** The latest version holds exactly `expected` rows (writer, seq) in order, every byte checked, and emb as filled. */
async function verify(storage: Storage, expected: readonly [number, number][]): Promise<VersionReader> {
  const v = await latestVersion(storage);
  expect(v.length).toBe(expected.length);
  const data: Buffer[] = [];
  for await (const r of new VersionColumnReader(v, v.column('data')).scan())
    for (const s of r.samples) data.push(Buffer.from(s!.bytes));
  const seq: number[] = [];
  for await (const r of new VersionColumnReader(v, v.column('seq')).scan())
    for (const s of r.samples) seq.push(Buffer.from(s!.bytes).readUInt32LE(0));
  expected.forEach(([w, q], i) => {
    expect(data[i].equals(Buffer.from(rowBytes(w, q))), `row ${i}`).toBe(true);
    expect(seq[i]).toBe(q);
  });
  if (v.schema.some((c) => c.name === 'emb')) {
    const emb = new VersionColumnReader(v, v.column('emb'));
    const filled = await emb.storedLength();
    let i = 0;
    for await (const r of emb.scan())
      for (const s of r.samples) {
        if (i < filled) expect(Buffer.from(s!.bytes).equals(Buffer.from(fillBytes(i))), `emb ${i}`).toBe(true);
        else expect(s).toBeNull();
        i++;
      }
  }
  const ids: number[] = [];
  for (const s of await v.allFragments()) ids.push(...(await v.rowIdsOf(s)));
  expect(ids).toEqual(expected.map((_, i) => i)); // row ids survive optimize
  return v;
}

describe('SIGKILL during fill, metadata, optimize and migrate commits (local storage, real processes)', () => {
  let dir: string;
  let kills = 0;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-crash-v2-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fill and metadata writers killed at random points: every reopen is a committed version', async () => {
    const uri = path.join(dir, 'modes');
    const storage = await openStorage(uri);
    await createV2(storage);
    const expected: [number, number][] = [];
    const seed = async (w: number, n: number, perCommit: number) => {
      const from = expected.filter(([x]) => x === w).length;
      await appendRows(storage, w, from, n, perCommit);
      for (let q = from; q < from + n; q++) expected.push([w, q]);
    };
    const r = rng('crash-v2');
    for (let round = 0; round < 8; round++) {
      await seed(1, 60, 3); // 20 more fragments to fill
      const start = await new VersionColumnReader(await latestVersion(storage), SCHEMA[2]).storedLength();
      if (await killDuring(uri, ['fill', 100 + round, 'emb', start, expected.length], 20 + Math.floor(r() * 250)))
        kills++;
      await verify(storage, expected);
    }
    for (let round = 0; round < 8; round++) {
      if (await killDuring(uri, ['meta', 200 + round, 100_000], 50 + Math.floor(r() * 300))) kills++;
      const v = await verify(storage, expected);
      const mine = Object.keys(v.meta)
        .filter((k) => k.startsWith(`w${200 + round}-`))
        .map((k) => Number(k.split('-')[1]))
        .sort((a, b) => a - b);
      expect(mine).toEqual(mine.map((_, i) => i)); // metadata commits are all-or-nothing, in order
    }
    expect(await new VersionColumnReader(await latestVersion(storage), SCHEMA[2]).storedLength()).toBeGreaterThan(0);
    await storage.close();
  }, 120_000);

  it('optimize writers killed at random points: every reopen is a committed version, row ids kept', async () => {
    const uri = path.join(dir, 'optimize');
    const storage = await openStorage(uri);
    await createV2(storage);
    const expected: [number, number][] = [];
    const r = rng('crash-optimize');
    let optimized = 0;
    for (let round = 0; round < 10; round++) {
      const from = expected.length;
      await appendRows(storage, 2, from, 30, 2 + (round % 3)); // small fragments for the optimizer
      for (let q = from; q < from + 30; q++) expected.push([2, q]);
      // the optimizer loops (compacting what there is, then finding nothing), so late kills land after its commit
      if (await killDuring(uri, ['optimize', 300 + round, 1e9, 4096], Math.floor(r() * 600))) kills++;
      if ((await verify(storage, expected)).manifest.message.startsWith('optimize')) optimized++;
    }
    expect(optimized).toBeGreaterThan(0);
    await storage.close();
  }, 120_000);

  it('migrate writers killed at random points: the dataset reads as its v1 or its migrated v2 version', async () => {
    const r = rng('crash-migrate');
    let migrated = 0;
    for (let round = 0; round < 8; round++) {
      const uri = path.join(dir, `v1-${round}`);
      const storage = await openStorage(uri);
      let m: Manifest = {
        ...emptyManifest('v1'),
        columns: SCHEMA.slice(0, 2).map((c, n) => ({ ...c, id: `c${n}`, length: 0, chunks: [] })),
      };
      await publishManifest(storage, m);
      const expected: [number, number][] = [];
      const txn = new Transaction(storage, m, { writer: 'v1', chunkSizeBytes: 64 });
      for (let q = 0; q < 30; q++) {
        const bytes = rowBytes(7, q);
        await txn.appendRow({ data: { bytes, shape: [bytes.length] }, seq: u32(q) });
        expected.push([7, q]);
      }
      m = await txn.commit('v1');
      if (await killDuring(uri, ['migrate', 400 + round], Math.floor(r() * 150))) kills++;
      const v = await verify(storage, expected);
      if (isV2(v.manifest)) migrated++;
      expect(v.version === m.version ? !isV2(v.manifest) : isV2(v.manifest) && v.version === m.version + 1).toBe(true);
      await storage.close();
    }
    expect(migrated).toBeGreaterThan(0);
    // with crash.test.ts's ≥ 25 append kills (of 30), ≥ 50 in all
    expect(kills).toBeGreaterThanOrEqual(25);
  }, 120_000);
});
