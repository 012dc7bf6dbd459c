import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { type VersionReader } from '../../src/format/version-reader.js';
import { type Backend, startBackend } from '../helpers/backends.js';
import { rowBytes } from './fixtures/writer.js';
import { fillBytes } from './fixtures/writer-v2.js';
import { SCHEMA, createV2 } from './v2-helpers.js';
import { latestVersion, runWriter } from './fixtures/run-writer.js';

/** STRATA_FULL_CONCURRENCY=1 runs the full size (16 appenders × 50 commits). */
const FULL = process.env.STRATA_FULL_CONCURRENCY === '1';
const APPENDERS = FULL ? 16 : 4;
const COMMITS = FULL ? 50 : 8;
/**
 * The appenders' time budget. The full size runs 16 writer processes and the loopback S3 server on
 * a machine that may have 2 cores shared with other work; there it can outlast 10 minutes while
 * every writer still makes progress, so it gets 30.
 */
const APPEND_BUDGET_MS = FULL ? 1_800_000 : 600_000;

/** Rows per writer, in order, with every byte checked. */
async function rowsByWriter(v: VersionReader): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  const seq = new VersionColumnReader(v, v.column('seq'));
  const seqs: number[] = [];
  for await (const r of seq.scan())
    for (const s of r.samples) seqs.push(new DataView(s!.bytes.buffer, s!.bytes.byteOffset).getUint32(0, true));
  let i = 0;
  for await (const r of new VersionColumnReader(v, v.column('data')).scan()) {
    for (const s of r.samples) {
      const dv = new DataView(s!.bytes.buffer, s!.bytes.byteOffset);
      const [w, q] = [dv.getUint32(0, true), dv.getUint32(4, true)];
      expect(Buffer.from(s!.bytes).equals(Buffer.from(rowBytes(w, q))), `row ${i}`).toBe(true);
      expect(seqs[i]).toBe(q);
      if (!out.has(w)) out.set(w, []);
      out.get(w)!.push(q);
      i++;
    }
  }
  expect(i).toBe(v.length);
  return out;
}

for (const name of ['local', 's3'] as const) {
  describe(`format v2 concurrent writer processes (${name})`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await startBackend(name);
    });
    afterAll(async () => {
      await backend.stop();
    });

    it(
      `${APPENDERS} appenders × ${COMMITS} commits: every row exactly once, no failed commit`,
      async () => {
        const uri = backend.uri();
        const storage = await backend.open(uri);
        await createV2(storage);
        const results = await Promise.all(
          Array.from({ length: APPENDERS }, (_, w) => runWriter(uri, backend.options, ['append', w + 1, COMMITS, 3])),
        );
        for (const r of results) expect(r.stderr).toBe('');
        expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
        const v = await latestVersion(storage);
        expect(v.version).toBe(APPENDERS * COMMITS);
        const per = await rowsByWriter(v);
        for (let w = 1; w <= APPENDERS; w++)
          expect(per.get(w)).toEqual(Array.from({ length: COMMITS * 3 }, (_, k) => k));
        await storage.close();
      },
      APPEND_BUDGET_MS,
    );

    it('2 fillers of disjoint fragments + 1 appender + 1 metadata writer: no CONFLICT', async () => {
      const uri = backend.uri();
      const storage = await backend.open(uri);
      await createV2(storage);
      const seed = await runWriter(uri, backend.options, ['append', 9, 8, 5]); // 8 fragments of 5 rows
      expect(seed.code).toBe(0);
      const results = await Promise.all([
        runWriter(uri, backend.options, ['fill', 1, 'emb', 0, 20]),
        runWriter(uri, backend.options, ['fill', 2, 'emb', 20, 40]),
        runWriter(uri, backend.options, ['append', 3, 6, 2]),
        runWriter(uri, backend.options, ['meta', 4, 6]),
      ]);
      for (const r of results) expect(r.stderr).toBe('');
      expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
      const v = await latestVersion(storage);
      expect(v.length).toBe(40 + 12);
      const emb = new VersionColumnReader(v, v.column('emb'));
      for (let r = 0; r < 40; r++)
        expect(Buffer.from((await emb.sample(r))!.bytes).equals(Buffer.from(fillBytes(r)))).toBe(true);
      for (let r = 40; r < 52; r++) expect(await emb.sample(r)).toBeNull();
      expect(Object.keys(v.meta).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `w4-${i}`).sort());
      const per = await rowsByWriter(v);
      expect(per.get(3)).toEqual(Array.from({ length: 12 }, (_, k) => k));
      expect(v.schema.map((c) => c.name)).toEqual(SCHEMA.map((c) => c.name));
      await storage.close();
    }, 300_000);
  });
}
