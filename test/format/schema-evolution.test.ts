import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StrataError } from '../../src/errors.js';
import { readAnyManifest, readLatestAnyManifest } from '../../src/format/latest.js';
import { type ManifestV2 } from '../../src/format/manifest-v2.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import type { Storage } from '../../src/storage/storage.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';
import { createV2 } from './v2-helpers.js';

const u32 = (n: number) => ({ bytes: new Uint8Array(new Uint32Array([n]).buffer), shape: [] });
const vec = (r: number) => ({ bytes: new Uint8Array(new Float32Array([r, -r]).buffer), shape: [2] });

async function open(storage: Storage, version?: number): Promise<VersionReader> {
  const m = version === undefined ? await readLatestAnyManifest(storage) : await readAnyManifest(storage, version);
  return new VersionReader(storage, m);
}

/** Every stored sample of `name` as bytes (null for none). */
async function samples(v: VersionReader, name: string): Promise<(number[] | null)[]> {
  const out: (number[] | null)[] = [];
  for await (const r of new VersionColumnReader(v, v.column(name)).scan())
    for (const s of r.samples) out.push(s ? [...s.bytes] : null);
  return out;
}

async function appendRows(storage: Storage, from: number, n: number): Promise<ManifestV2> {
  const txn = new TransactionV2(storage, await open(storage), { writer: 't', chunkSizeBytes: 64 });
  for (let i = from; i < from + n; i++)
    await txn.appendRow({ data: { bytes: new Uint8Array(i % 5).fill(i), shape: [i % 5] }, seq: u32(i) });
  return (await txn.commit(`rows ${from}..`)) as ManifestV2;
}

describe.each(BACKENDS)('format v2 dropColumn and renameColumn (%s)', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend.stop();
  });

  it('drop removes the column from the new version only; rename keeps the bytes; the old name is free again', async () => {
    const storage = await backend.open(backend.uri());
    await createV2(storage);
    await appendRows(storage, 0, 12);
    const before = await open(storage);
    const seqBefore = await samples(before, 'seq');
    const dataBefore = await samples(before, 'data');

    const drop = new TransactionV2(storage, before, { writer: 't' });
    drop.dropColumn('emb');
    const dropped = (await drop.commit('drop emb')) as ManifestV2;
    expect(dropped.operation.actions).toEqual([{ type: 'dropColumn', column: 'c2aaaaaa2' }]);
    const afterDrop = await open(storage);
    expect(afterDrop.schema.map((c) => c.name)).toEqual(['data', 'seq']);
    expect(() => afterDrop.column('emb')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(await samples(afterDrop, 'seq')).toEqual(seqBefore);
    expect(await samples(afterDrop, 'data')).toEqual(dataBefore);
    // time travel: the version before still has it
    expect((await open(storage, before.version)).schema.map((c) => c.name)).toEqual(['data', 'seq', 'emb']);

    const rename = new TransactionV2(storage, afterDrop, { writer: 't' });
    rename.renameColumn('seq', 'n');
    rename.addColumn({ ...afterDrop.column('seq'), name: 'seq', meta: { fresh: true } });
    await rename.commit('rename seq to n, add a new seq');
    const renamed = await open(storage);
    expect(renamed.schema.map((c) => c.name)).toEqual(['data', 'n', 'seq']);
    expect(renamed.column('n').id).toBe(afterDrop.column('seq').id);
    expect(await samples(renamed, 'n')).toEqual(seqBefore);
    expect(await samples(renamed, 'seq')).toEqual(Array.from({ length: 12 }, () => null));
    await appendRows(storage, 12, 3); // rows write the new seq column
    const last = await open(storage);
    expect((await samples(last, 'seq')).slice(12)).toEqual([12, 13, 14].map((i) => [...u32(i).bytes]));
    expect((await samples(last, 'n')).slice(12)).toEqual([null, null, null]);
    expect(await samples(await open(storage, afterDrop.version), 'seq')).toEqual(seqBefore);
  });

  it('a rename and an append on the same base both commit', async () => {
    const storage = await backend.open(backend.uri());
    await createV2(storage);
    await appendRows(storage, 0, 4);
    const base = await open(storage);
    const rename = new TransactionV2(storage, base, { writer: 'a' });
    const append = new TransactionV2(storage, base, { writer: 'b', chunkSizeBytes: 64 });
    rename.renameColumn('seq', 'n');
    for (let i = 4; i < 8; i++) await append.appendRow({ data: { bytes: new Uint8Array(1), shape: [1] }, seq: u32(i) });
    await append.commit('append');
    await rename.commit('rename'); // rebased onto the append
    const v = await open(storage);
    expect(v.version).toBe(base.version + 2);
    expect(await samples(v, 'n')).toEqual(Array.from({ length: 8 }, (_, i) => [...u32(i).bytes]));
  });

  it('a drop racing a fill of that column gets CONFLICT naming it; either order', async () => {
    for (const dropFirst of [true, false]) {
      const storage = await backend.open(backend.uri());
      await createV2(storage);
      await appendRows(storage, 0, 4);
      const base = await open(storage);
      const drop = new TransactionV2(storage, base, { writer: 'a' });
      const fill = new TransactionV2(storage, base, { writer: 'b' });
      drop.dropColumn('emb');
      await fill.fillRows('emb', 0, [vec(1), vec(2)]);
      const [first, second] = dropFirst ? [drop, fill] : [fill, drop];
      await first.commit('first');
      const err = await second.commit('second').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CONFLICT' });
      expect(String((err as StrataError).details.collision)).toContain('column emb');
      expect((await open(storage)).version).toBe(base.version + 1);
    }
  });

  it('renames of one column to different names, or of two columns to one name, conflict; a rename to a name a concurrent addColumn took conflicts', async () => {
    const storage = await backend.open(backend.uri());
    await createV2(storage);
    const cases: [(t: TransactionV2) => void, (t: TransactionV2) => void, string][] = [
      [(t) => t.renameColumn('seq', 'x'), (t) => t.renameColumn('seq', 'y'), 'column seq'],
      [(t) => t.renameColumn('seq', 'x'), (t) => t.renameColumn('data', 'x'), 'column name x'],
      [(t) => t.addColumn({ ...t.schema[1], name: 'x' }), (t) => t.renameColumn('data', 'x'), 'column name x'],
      [(t) => t.renameColumn('data', 'x'), (t) => t.addColumn({ ...t.schema[1], name: 'x' }), 'column name x'],
      [(t) => t.setColumnMeta('emb', { dim: 2 }), (t) => t.dropColumn('emb'), 'column emb'],
      [(t) => t.renameColumn('emb', 'e'), (t) => t.dropColumn('emb'), 'column emb'],
    ];
    for (const [theirs, mine, what] of cases) {
      const base = await open(storage);
      const a = new TransactionV2(storage, base, { writer: 'a' });
      const b = new TransactionV2(storage, base, { writer: 'b' });
      theirs(a);
      mine(b);
      await a.commit('theirs');
      const err = await b.commit('mine').catch((e: unknown) => e);
      expect(err, what).toMatchObject({ code: 'CONFLICT' });
      expect(String((err as StrataError).details.collision)).toContain(what);
      // undo: back to the original schema for the next case
      await createFresh(storage, base.version + 1);
    }
    // renames of one column to the same name, and of different columns to different names, commute
    const base = await open(storage);
    const a = new TransactionV2(storage, base, { writer: 'a' });
    const b = new TransactionV2(storage, base, { writer: 'b' });
    a.renameColumn('seq', 'x');
    a.renameColumn('data', 'd');
    b.renameColumn('seq', 'x');
    b.dropColumn('emb');
    await a.commit('a');
    await b.commit('b');
    expect((await open(storage)).schema.map((c) => c.name)).toEqual(['d', 'x']);
  });
});

/** Publishes a version with the original schema back (a metadata-only commit). */
async function createFresh(storage: Storage, at: number): Promise<void> {
  const v = await open(storage, at);
  const t = new TransactionV2(storage, v, { writer: 'reset' });
  for (const c of [...v.schema]) t.dropColumn(c.name);
  for (const c of (await open(storage, 0)).schema) t.addColumn(c);
  await t.commit('reset');
}
