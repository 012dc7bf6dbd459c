import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnyManifest } from '../../src/format/latest.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import type { Storage } from '../../src/storage/storage.js';
import { type Backend, startBackend } from '../helpers/backends.js';
import { rowBytes } from './fixtures/writer.js';
import { createV2 } from './v2-helpers.js';
import { latestVersion, runWriter } from './fixtures/run-writer.js';

const ROUNDS = 3;

/** (writer, seq) of every live row in position order, every byte checked. */
async function rows(v: VersionReader): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for await (const r of new VersionColumnReader(v, v.column('data')).scan()) {
    for (const s of r.samples) {
      const dv = new DataView(s!.bytes.buffer, s!.bytes.byteOffset);
      const [w, q] = [dv.getUint32(0, true), dv.getUint32(4, true)];
      expect(Buffer.from(s!.bytes).equals(Buffer.from(rowBytes(w, q)))).toBe(true);
      out.push([w, q]);
    }
  }
  expect(out.length).toBe(v.length);
  return out;
}

async function seed(storage: Storage, n: number): Promise<void> {
  await createV2(storage);
  const txn = new TransactionV2(storage, await latestVersion(storage), { writer: 'seed', chunkSizeBytes: 64 });
  for (let q = 0; q < n; q++) {
    const bytes = rowBytes(9, q);
    await txn.appendRow({
      data: { bytes, shape: [bytes.length] },
      seq: { bytes: new Uint8Array(new Uint32Array([q]).buffer), shape: [] },
    });
  }
  await txn.commit('seed');
}

for (const name of ['local', 's3'] as const) {
  describe(`format v2 deletes and updates in separate processes (${name})`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await startBackend(name);
    });
    afterAll(async () => {
      await backend.stop();
    });

    it('a delete racing an update of the same row: exactly one wins, the other is CONFLICT naming the row', async () => {
      const uri = backend.uri();
      const storage = await backend.open(uri);
      await seed(storage, 10);
      for (let round = 0; round < ROUNDS; round++) {
        const base = await latestVersion(storage);
        const pos = round; // row ids 0.. are at positions 0.. until updated
        const rowId = (await base.rowIdsOf(await base.slotAt(pos)))[pos - (await base.slotAt(pos)).start];
        const [del, upd] = await Promise.all([
          runWriter(uri, backend.options, ['delete', 1, base.version, pos]),
          runWriter(uri, backend.options, ['update', 2, base.version, pos]),
        ]);
        for (const r of [del, upd]) expect(r.stderr).toBe('');
        expect([del.code, upd.code].sort()).toEqual([0, 3]);
        const loser = del.code === 3 ? del : upd;
        expect(loser.stdout).toContain(`conflict ${rowId}`);
        const v = await latestVersion(storage);
        expect(v.version).toBe(base.version + 1);
        const ids: number[] = [];
        for (const slot of await v.allFragments()) ids.push(...(await v.rowIdsOf(slot)));
        if (del.code === 0) {
          expect(v.length).toBe(base.length - 1);
          expect(ids).not.toContain(rowId);
        } else {
          expect(v.length).toBe(base.length);
          expect(ids.at(-1)).toBe(rowId);
          expect((await rows(v)).at(-1)).toEqual([2, pos]);
        }
      }
      // time travel: the seed version still has every row
      expect((await rows(new VersionReader(storage, await readAnyManifest(storage, 1)))).length).toBe(10);
      await storage.close();
    }, 300_000);

    it('deletes concurrent with appends: no CONFLICT, every appended row exactly once', async () => {
      const uri = backend.uri();
      const storage = await backend.open(uri);
      await seed(storage, 6);
      const results = await Promise.all([
        runWriter(uri, backend.options, ['deletes', 1, 5]),
        runWriter(uri, backend.options, ['append', 3, 5, 2]),
        runWriter(uri, backend.options, ['append', 4, 5, 2]),
      ]);
      for (const r of results) expect(r.stderr).toBe('');
      expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
      const v = await latestVersion(storage);
      expect(v.version).toBe(1 + 15);
      const got = await rows(v);
      expect(got.length).toBe(6 + 20 - 5);
      // position 0 is always a seed row (6 seeds, 5 deletes): seeds 0..4 are gone, appended rows all stay
      expect(got.filter(([w]) => w === 9)).toEqual([[9, 5]]);
      for (const w of [3, 4])
        expect(got.filter(([x]) => x === w).map(([, q]) => q)).toEqual(Array.from({ length: 10 }, (_, k) => k));
      await storage.close();
    }, 300_000);
  });
}
