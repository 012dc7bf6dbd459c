import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBranches } from '../../src/format/branches.js';
import { readAnyManifest, readLatestAnyManifest } from '../../src/format/latest.js';
import { MAIN, type Ref, branchRef } from '../../src/format/refs.js';
import { listTags } from '../../src/format/tags.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { rowBytes } from './fixtures/writer.js';
import { createV2 } from './v2-helpers.js';
import { rng } from '../helpers/random.js';
import { killDuring } from './fixtures/run-writer.js';

/** Reads every row of a version, checking every byte; returns the seqs per writer in row order. */
async function verify(v: VersionReader, order: number[] = []): Promise<Map<number, number[]>> {
  const seqs: number[] = [];
  for await (const run of new VersionColumnReader(v, v.column('seq')).scan())
    for (const s of run.samples) seqs.push(new DataView(s!.bytes.buffer, s!.bytes.byteOffset).getUint32(0, true));
  expect(seqs.length).toBe(v.length);
  const perWriter = new Map<number, number[]>();
  let i = 0;
  for await (const run of new VersionColumnReader(v, v.column('data')).scan()) {
    for (const s of run.samples) {
      const view = new DataView(s!.bytes.buffer, s!.bytes.byteOffset);
      const [w, q] = [view.getUint32(0, true), view.getUint32(4, true)];
      expect(Buffer.from(s!.bytes).equals(Buffer.from(rowBytes(w, q))), `row ${i}`).toBe(true);
      expect(seqs[i]).toBe(q);
      let list = perWriter.get(w);
      if (!list) perWriter.set(w, (list = []));
      list.push(q);
      order.push(w);
      i++;
    }
  }
  expect(i).toBe(v.length);
  return perWriter;
}

async function open(storage: Storage, ref: Ref, version?: number): Promise<VersionReader> {
  const m =
    version === undefined
      ? await readLatestAnyManifest(storage, undefined, ref)
      : await readAnyManifest(storage, version, undefined, ref);
  return new VersionReader(storage, m);
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);

describe('SIGKILL during tag and branch commits (local storage, real processes)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-refs-crash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('12 kills while appending and tagging: main reads whole, every tag names the version its commit published', async () => {
    const uri = path.join(dir, 'tags');
    const storage = await openStorage(uri);
    await createV2(storage);
    const r = rng('tag-kills');
    const perCommit = new Map<number, number>();
    let kills = 0;
    for (let round = 0; round < 12; round++) {
      const per = 1 + Math.floor(r() * 8);
      perCommit.set(round, per);
      if (await killDuring(uri, ['tag', round, 100_000, per], 100 + Math.floor(r() * 600))) kills++;
      const latest = await open(storage, MAIN);
      const order: number[] = [];
      const main = await verify(latest, order);
      for (const seqs of main.values()) expect(seqs).toEqual(range(0, seqs.length)); // whole commits only
      // Each tag names the version its commit published: the writer's rows up to that commit. Every
      // version here is a prefix of the latest (appends only); the newest tag is also read byte by byte.
      const tags = await listTags(storage);
      for (const tag of tags) {
        const [, writer, commit] = /^w(\d+)-(\d+)$/.exec(tag.name)!.map(Number);
        const v = await open(storage, MAIN, tag.version);
        const mine = order.slice(0, v.length).filter((w) => w === writer).length;
        expect(mine, tag.name).toBe((commit + 1) * perCommit.get(writer)!);
        expect(order[v.length - 1], tag.name).toBe(writer);
      }
      const newest = tags.sort((a, b) => b.version - a.version)[0];
      if (newest) {
        const [, writer, commit] = /^w(\d+)-(\d+)$/.exec(newest.name)!.map(Number);
        const rows = await verify(await open(storage, MAIN, newest.version));
        expect(rows.get(writer)).toEqual(range(0, (commit + 1) * perCommit.get(writer)!));
      }
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    expect((await listTags(storage)).length).toBeGreaterThan(0);
    await storage.close();
  }, 300_000);

  it('12 kills while creating branches and committing on them: main never moves, every branch reads whole', async () => {
    const uri = path.join(dir, 'branches');
    const storage = await openStorage(uri);
    await createV2(storage);
    const txn = new TransactionV2(storage, await open(storage, MAIN), { writer: 'seed' });
    for (let q = 0; q < 5; q++) {
      const bytes = rowBytes(999, q);
      await txn.appendRow({
        data: { bytes, shape: [bytes.length] },
        seq: { bytes: new Uint8Array(new Uint32Array([q]).buffer), shape: [] },
      });
    }
    await txn.commit('seed');
    const r = rng('branch-kills');
    const perCommit = new Map<number, number>();
    let kills = 0;
    for (let round = 0; round < 12; round++) {
      const per = 1 + Math.floor(r() * 8);
      perCommit.set(round, per);
      if (await killDuring(uri, ['branch', round, 100_000, per], 100 + Math.floor(r() * 600))) kills++;
      const main = await open(storage, MAIN);
      expect(main.version).toBe(1);
      expect(await verify(main)).toEqual(new Map([[999, range(0, 5)]]));
      for (const b of await listBranches(storage)) {
        const [, writer, commit] = /^w(\d+)-b(\d+)$/.exec(b.name)!.map(Number);
        expect(b.origin).toEqual({ branch: null, version: 1 });
        const head = await open(storage, branchRef(b.name));
        const rows = await verify(head);
        expect(rows.get(999)).toEqual(range(0, 5));
        const per = perCommit.get(writer)!;
        expect(rows.get(writer) ?? [], b.name).toEqual(head.version === 0 ? [] : range(commit * per, per));
        expect(head.version).toBeLessThanOrEqual(1);
      }
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    expect((await listBranches(storage)).length).toBeGreaterThan(0);
    await storage.close();
  }, 300_000);
});
