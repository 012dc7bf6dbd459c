import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { readAnyManifest, readLatestAnyManifest } from '../../src/format/latest.js';
import type { ManifestV2 } from '../../src/format/manifest-v2.js';
import { optimize } from '../../src/format/optimize.js';
import { listAllVersions } from '../../src/format/version-list.js';
import { vacuum } from '../../src/format/vacuum.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { type Backend, startBackend } from '../helpers/backends.js';
import { rowBytes } from './fixtures/writer.js';
import { createV2 } from './v2-helpers.js';

const WRITER = path.join(import.meta.dirname, 'fixtures', 'writer-v2.ts');
/** STRATA_FULL_CONCURRENCY=1 runs the full size (16 appenders × 50 commits). */
const FULL = process.env.STRATA_FULL_CONCURRENCY === '1';
const APPENDERS = FULL ? 16 : 3;
const COMMITS = FULL ? 50 : 10;
const MIB = 1 << 20;

const u32 = (n: number) => ({ bytes: new Uint8Array(new Uint32Array([n]).buffer), shape: [] });
const vec = (r: number) => ({ bytes: new Uint8Array(new Float32Array([r, -r]).buffer), shape: [2] });

async function at(storage: Storage, version?: number): Promise<VersionReader> {
  const m = version === undefined ? await readLatestAnyManifest(storage) : await readAnyManifest(storage, version);
  return new VersionReader(storage, m);
}

async function append(storage: Storage, from: number, n: number, base?: VersionReader, w = 1): Promise<ManifestV2> {
  const txn = new TransactionV2(storage, base ?? (await at(storage)), { writer: 't' });
  for (let i = from; i < from + n; i++) {
    const bytes = rowBytes(w, i);
    await txn.appendRow({ data: { bytes, shape: [bytes.length] }, seq: u32(i) });
  }
  return (await txn.commit(`rows ${from}..`)) as ManifestV2;
}

/** Every column's samples (null distinguished from "not stored"), row ids and chunk counts of a version. */
async function snapshot(v: VersionReader) {
  const columns: Record<string, (string | null)[]> = {};
  const chunks: Record<string, number> = {};
  const stored: Record<string, number> = {};
  for (const c of v.schema) {
    const r = new VersionColumnReader(v, c);
    const values: (string | null)[] = [];
    for await (const run of r.scan())
      for (const s of run.samples) values.push(s ? Buffer.from(s.bytes).toString('hex') : null);
    columns[c.name] = values;
    const st = await r.stats();
    chunks[c.name] = st.chunks;
    stored[c.name] = st.storedRows;
  }
  const rowIds: number[] = [];
  const slots = await v.allFragments();
  for (const s of slots) rowIds.push(...(await v.rowIdsOf(s)));
  return { columns, chunks, stored, rowIds, fragments: slots.length };
}

describe('format v2 optimize', () => {
  it('merges 50 small commits into one fragment: chunks within 2× the minimum, bytes, nulls and row ids kept', async () => {
    const storage = await openStorage(`memory://optimize-${Date.now()}`);
    await createV2(storage);
    for (let c = 0; c < 50; c++) await append(storage, c * 3, 3);
    const fill = new TransactionV2(storage, await at(storage), { writer: 't' });
    await fill.fillRows(
      'emb',
      4,
      Array.from({ length: 20 }, (_, k) => vec(4 + k)),
    );
    await fill.commit('fill 4..23');
    const before = await at(storage);
    const a = await snapshot(before);
    expect(a.chunks.data).toBe(50);

    const progress: number[] = [];
    const r = await optimize(storage, before, {
      writer: 't',
      targetChunkBytes: MIB,
      onProgress: (p) => progress.push(p.done),
    });
    expect(r).toMatchObject({ fragmentsRemoved: 50, fragmentsAdded: 1, rowsRewritten: 150 });
    expect(progress.at(-1)).toBe(50);
    const after = await at(storage);
    expect(after.version).toBe(before.version + 1);
    const b = await snapshot(after);
    expect(b.fragments).toBe(1);
    expect(b.chunks).toEqual({ data: 1, seq: 1, emb: 1 });
    expect(b.columns).toEqual(a.columns);
    expect(b.rowIds).toEqual(a.rowIds);
    expect(b.stored).toEqual(a.stored); // rows 0..3 and 24.. of emb stay "not computed"
    expect(await new VersionColumnReader(after, after.column('emb')).storedLength()).toBe(0);

    // time travel to the pre-optimize version still reads its own objects
    expect(await snapshot(await at(storage, before.version))).toEqual(a);
    // vacuum keeps what the optimized version references and drops the replaced fragment files
    await vacuum(storage, { retentionMs: 0 });
    expect(await storage.list('fragments/')).toHaveLength(1);
    expect(await snapshot(await at(storage))).toEqual(b);
    // nothing left to merge: a second optimize publishes nothing
    const again = await optimize(storage, after, { writer: 't', targetChunkBytes: MIB });
    expect(again.manifest.version).toBe(after.version);
  });

  it('rebases over a concurrent append (rows kept) and makes a concurrent fill of a rewritten fragment CONFLICT', async () => {
    const storage = await openStorage(`memory://optimize-race-${Date.now()}`);
    await createV2(storage);
    for (let c = 0; c < 6; c++) await append(storage, c * 3, 3);
    const base = await at(storage);
    const filler = new TransactionV2(storage, base, { writer: 'f' });
    await filler.fillRows('emb', 7, [vec(7)]);
    await append(storage, 18, 4, base); // lands first: optimize must rebase over it
    const r = await optimize(storage, base, { writer: 'o', targetChunkBytes: MIB });
    expect(r.manifest.version).toBe(base.version + 2);
    const v = await at(storage);
    expect(v.length).toBe(22);
    const seq = await snapshot(v);
    expect(seq.columns.seq).toEqual(Array.from({ length: 22 }, (_, i) => Buffer.from(u32(i).bytes).toString('hex')));
    expect(seq.rowIds).toEqual(Array.from({ length: 22 }, (_, i) => i));
    const rewritten = (await base.slotAt(7)).ref.id;
    const err = await filler.commit('fill 7').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFLICT' });
    expect((err as Error).message).toContain(`fragment ${rewritten}`);

    // a fill of a fragment the optimize did not touch (appended while it ran) commits
    const ok = new TransactionV2(storage, v, { writer: 'f' });
    await ok.fillRows('emb', 20, [vec(20)]);
    await ok.commit('fill 20');
    const emb = new VersionColumnReader(await at(storage), v.column('emb'));
    expect(Buffer.from((await emb.sample(20))!.bytes).equals(Buffer.from(vec(20).bytes))).toBe(true);
  });

  it('drops deleted rows: live bytes, nulls and row ids kept, old versions intact, old deletion files vacuumed', async () => {
    const storage = await openStorage(`memory://optimize-del-${Date.now()}`);
    await createV2(storage);
    // fragments A 10 rows, B 10, C 3, D 3, E 10, F 2 (positions 0.., 10.., 20.., 23.., 26.., 36..)
    for (const [from, n] of [
      [0, 10],
      [10, 10],
      [20, 3],
      [23, 3],
      [26, 10],
      [36, 2],
    ])
      await append(storage, from, n);
    const fill = new TransactionV2(storage, await at(storage), { writer: 't' });
    await fill.fillRows(
      'emb',
      2,
      Array.from({ length: 6 }, (_, k) => vec(2 + k)),
    );
    await fill.commit('fill 2..7');
    const del = new TransactionV2(storage, await at(storage), { writer: 't' });
    // A: 3 of 10 (rewritten alone although large), C: 1 (grouped with D), E: 1 of 10 (kept), F: all
    for (const pos of [0, 3, 8, 21, 30, 36, 37]) await del.deleteRow(pos);
    await del.commit('delete');
    const before = await at(storage);
    expect(before.length).toBe(31);
    const a = await snapshot(before);
    expect(await storage.list('deletions/')).toHaveLength(4);

    const r = await optimize(storage, before, { writer: 't', targetChunkBytes: MIB, targetFragmentRows: 8 });
    expect(r).toMatchObject({ fragmentsRemoved: 4, fragmentsAdded: 2, rowsRewritten: 12 });
    const after = await at(storage);
    const m = after.manifest as ManifestV2;
    expect(m.length).toBe(31);
    expect(m.physicalRows).toBe(32); // only E's deleted row is still stored
    const refs = (await after.allFragments()).map((s) => s.ref);
    expect(refs.map((x) => [x.rows, x.deleted])).toEqual([
      [7, 0],
      [10, 0],
      [5, 0],
      [10, 1],
    ]);
    const b = await snapshot(after);
    expect(b.columns).toEqual(a.columns);
    expect(b.rowIds).toEqual(a.rowIds);
    // stored rows are physical: the deleted copies are gone but E's deleted row (emb filled on 2..7 less row 3)
    expect(b.stored).toEqual({ data: 32, seq: 32, emb: 5 });
    expect(b.rowIds).not.toContain(3);
    expect(await snapshot(await at(storage, before.version))).toEqual(a);

    await vacuum(storage, { retentionMs: 0 });
    expect(await storage.list('deletions/')).toHaveLength(1); // E's; the replaced ones are unreferenced
    expect(await snapshot(await at(storage))).toEqual(b);
    // below the threshold E stays; at maxDeletedFraction 0.05 it is rewritten too
    expect((await optimize(storage, after, { writer: 't', targetFragmentRows: 8 })).manifest.version).toBe(
      after.version,
    );
    const all = await optimize(storage, after, { writer: 't', targetFragmentRows: 8, maxDeletedFraction: 0.05 });
    expect(all).toMatchObject({ fragmentsRemoved: 1, fragmentsAdded: 1, rowsRewritten: 9 });
    const last = await at(storage);
    expect((last.manifest as ManifestV2).physicalRows).toBe(31);
    expect(await snapshot(last)).toMatchObject({ columns: a.columns, rowIds: a.rowIds });
    await expect(optimize(storage, last, { writer: 't', maxDeletedFraction: 2 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('a delete racing an optimize of its fragment: one commits, the other is a CONFLICT naming the fragment', async () => {
    for (const first of ['delete', 'optimize'] as const) {
      const storage = await openStorage(`memory://optimize-del-race-${first}-${Date.now()}`);
      await createV2(storage);
      for (let c = 0; c < 4; c++) await append(storage, c * 3, 3);
      const pre = new TransactionV2(storage, await at(storage), { writer: 'd' });
      await pre.deleteRow(3); // the optimize rewrites a fragment that already has a deletion file
      await pre.commit('delete 3');
      const base = await at(storage);
      const id = (await base.slotAt(3)).ref.id;
      const del = new TransactionV2(storage, base, { writer: 'd' });
      await del.deleteRow(3); // row 4
      let err: unknown;
      if (first === 'delete') {
        await del.commit('delete 4');
        err = await optimize(storage, base, { writer: 'o' }).catch((e: unknown) => e);
      } else {
        await optimize(storage, base, { writer: 'o' });
        err = await del.commit('delete 4').catch((e: unknown) => e);
      }
      expect(err, first).toMatchObject({ code: 'CONFLICT' });
      expect((err as Error).message).toContain(`fragment ${id}`);
      const v = await at(storage);
      expect(v.version).toBe(base.version + 1);
      const seq = (await snapshot(v)).columns.seq.map((h) => Buffer.from(h!, 'hex').readUInt32LE(0));
      expect(seq).toEqual(first === 'delete' ? [0, 1, 2, 5, 6, 7, 8, 9, 10, 11] : [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    }
  });

  it('Dataset.optimize compacts and reopens the new version', async () => {
    const ds = await Dataset.create(`memory://optimize-ds-${Date.now()}`, {
      schema: { n: { htype: 'generic', dtype: 'int32' } },
    });
    for (let c = 0; c < 5; c++) {
      await ds.append([{ n: c * 2 }, { n: c * 2 + 1 }]);
      await ds.commit(`c${c}`);
    }
    const r = await ds.optimize({ targetChunkBytes: MIB });
    expect(r).toMatchObject({ version: 6, fragmentsRemoved: 5, fragmentsAdded: 1 });
    expect(ds.version).toBe(6);
    expect(await ds.values('n')).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await ds.append({ n: 10 });
    await expect(ds.optimize()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await ds.close();
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function run(uri: string, options: Record<string, unknown>, args: (string | number)[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WRITER, uri, JSON.stringify(options), ...args.map(String)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
}

describe('format v2 optimize racing appender processes (local)', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('local');
  });
  afterAll(async () => {
    await backend.stop();
  });

  it(`${APPENDERS} appenders × ${COMMITS} commits racing an optimizer: no CONFLICT, every row once, then chunks within 2× the minimum`, async () => {
    const uri = backend.uri();
    const storage = await backend.open(uri);
    await createV2(storage);
    for (let c = 0; c < 3; c++) await append(storage, c * 2, 2, undefined, 0); // writer 0: something to compact
    const optimizer = run(uri, backend.options, ['optimize', 99, 6 + APPENDERS * COMMITS * 3, MIB]);
    // the appenders start once the optimizer has published (it keeps compacting until every row is in)
    while (!(await at(storage)).manifest.message.startsWith('optimize')) await sleep(50);
    const results = await Promise.all([
      ...Array.from({ length: APPENDERS }, (_, w) => run(uri, backend.options, ['append', w + 1, COMMITS, 3])),
      optimizer,
    ]);
    for (const r of results) expect(r.stderr).toBe('');
    expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
    const messages = (await listAllVersions(storage)).map((x) => x.message ?? '');
    expect(messages.filter((m) => m.startsWith('optimize')).length).toBeGreaterThan(1);
    const final = await optimize(storage, await at(storage), { writer: 't', targetChunkBytes: MIB });
    const v = await at(storage);
    expect(v.version).toBe(final.manifest.version);
    const snap = await snapshot(v);
    expect(snap.fragments).toBe(1);
    const per = new Map<number, number[]>();
    snap.columns.data.forEach((hex, i) => {
      const bytes = Buffer.from(hex!, 'hex');
      const [w, q] = [bytes.readUInt32LE(0), bytes.readUInt32LE(4)];
      expect(bytes.equals(Buffer.from(rowBytes(w, q))), `row ${i}`).toBe(true);
      expect(snap.columns.seq[i]).toBe(Buffer.from(u32(q).bytes).toString('hex'));
      per.set(w, [...(per.get(w) ?? []), q]);
    });
    expect(per.get(0)).toEqual([0, 1, 2, 3, 4, 5]);
    for (let w = 1; w <= APPENDERS; w++) expect(per.get(w)).toEqual(Array.from({ length: COMMITS * 3 }, (_, k) => k));
    const st = await new VersionColumnReader(v, v.column('data')).stats();
    expect(st.chunks).toBeLessThanOrEqual(2 * Math.max(1, Math.ceil(st.bytes / MIB)));
    expect(new Set(snap.rowIds).size).toBe(v.length);
    await storage.close();
  }, 600_000);
});
