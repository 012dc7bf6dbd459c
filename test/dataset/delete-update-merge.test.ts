import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { Dataset } from '../../src/dataset/dataset.js';
import type { ImageCell } from '../../src/dataset/cells.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/media.js';
import { rng as prng } from '../helpers/random.js';
import { coreOf } from '../../src/dataset/internal.js';

const schema = {
  key: 'int32',
  label: { htype: 'class_label' },
  caption: 'text',
  image: { htype: 'image' },
  vec: { htype: 'embedding', dim: 2 },
} as const;

interface ModelRow {
  id: number;
  key: number;
  label: string;
  caption: string;
}

async function tabular(ds: Dataset): Promise<{ key: number; label: string; caption: string }[]> {
  const [key, label, caption] = await Promise.all([ds.values('key'), ds.values('label'), ds.values('caption')]);
  return key.map((k, i) => ({ key: k as number, label: label[i] as string, caption: caption[i] as string }));
}

describe.each(BACKENDS)('delete, update and merge (%s)', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend.stop();
  });

  it('delete, update and merge are one commit each; reads, views, batches, search and Arrow honour them', async () => {
    const uri = backend.uri();
    const ds = await Dataset.create(uri, { schema, ...backend.options, chunkSizeBytes: 2048 });
    const images = await Promise.all(Array.from({ length: 8 }, (_, i) => makeJpeg({ width: 16, height: 16, seed: i })));
    await ds.append(
      images.map((image, i) => ({
        key: i,
        label: i % 2 ? 'odd' : 'even',
        caption: `c${i}`,
        image,
        vec: [i, 1],
      })),
    );
    await ds.commit('eight');
    expect(await ds.delete({ label: 'odd' })).toBe(4);
    expect(ds.version).toBe(2);
    expect(ds.length).toBe(4);
    expect(Array.from(await ds.rowIds())).toEqual([0, 2, 4, 6]);
    expect(await ds.values('key')).toEqual([0, 2, 4, 6]);
    // media cells read the right rows after deletes
    const cell = (await ds.row(1)).image as ImageCell;
    expect(Buffer.from(await cell.bytes()).equals(Buffer.from(images[2]))).toBe(true);
    // update by predicate and by row ids: same ids, new values, moved to the end
    expect(await ds.update((r) => r.key === 2, { caption: 'two' })).toBe(1);
    expect(await ds.update({ rowIds: [4] }, (r) => ({ ...r, caption: `${String(r.caption)}!`, label: 'new' }))).toBe(1);
    expect(ds.version).toBe(4);
    expect(await tabular(ds)).toEqual([
      { key: 0, label: 'even', caption: 'c0' },
      { key: 6, label: 'even', caption: 'c6' },
      { key: 2, label: 'even', caption: 'two' },
      { key: 4, label: 'new', caption: 'c4!' },
    ]);
    expect(Array.from(await ds.rowIds())).toEqual([0, 6, 2, 4]);
    expect(await ds.rowPosition(2)).toBe(2);
    expect(await ds.rowPosition(1)).toBeUndefined();
    // unchanged media and embeddings are carried over byte for byte
    const moved = (await ds.row(3)).image as ImageCell;
    expect(Buffer.from(await moved.bytes()).equals(Buffer.from(images[4]))).toBe(true);
    expect(Array.from((await ds.row(3)).vec as Float32Array)).toEqual([4, 1]);
    // merge: key 6 updated, key 9 inserted
    expect(
      await ds.merge(
        [
          { key: 6, caption: 'six' },
          { key: 9, label: 'odd', caption: 'c9', image: images[1], vec: [9, 1] },
        ],
        { on: 'key' },
      ),
    ).toEqual({
      updated: 1,
      inserted: 1,
    });
    expect(await tabular(ds)).toEqual([
      { key: 0, label: 'even', caption: 'c0' },
      { key: 2, label: 'even', caption: 'two' },
      { key: 4, label: 'new', caption: 'c4!' },
      { key: 6, label: 'even', caption: 'six' },
      { key: 9, label: 'odd', caption: 'c9' },
    ]);
    expect(Array.from(await ds.rowIds())).toEqual([0, 2, 4, 6, 8]);
    // views, batches, search, Arrow
    const view = ds.filter({ label: 'even' });
    expect(await view.values('key')).toEqual([0, 2, 6]);
    expect(Array.from(await view.rowIds())).toEqual([0, 2, 6]);
    expect(await view.rowPosition(6)).toBe(2);
    // decoded batches (whole-chunk reads through the chunk index) equal those of a dataset that
    // holds only the live images, in the same order
    const fresh = await Dataset.create(backend.uri(), { schema, ...backend.options, chunkSizeBytes: 2048 });
    await fresh.append([0, 2, 4, 6, 1].map((i) => ({ key: i, image: images[i] })));
    await fresh.commit('live rows only');
    const batchesOf = async (d: Dataset) => {
      const out: { key: unknown[]; image: Uint8Array }[] = [];
      for await (const b of d.batches({ batchSize: 2, columns: ['key', 'image'], decode: { image: { size: [8, 8] } } }))
        out.push({ key: b.key as unknown[], image: b.image as Uint8Array });
      return out;
    };
    const got = await batchesOf(ds);
    expect(got.flatMap((b) => b.key)).toEqual([0, 2, 4, 6, 9]);
    expect(got.map((b) => Buffer.from(b.image.buffer).toString('hex'))).toEqual(
      (await batchesOf(fresh)).map((b) => Buffer.from(b.image.buffer).toString('hex')),
    );
    await fresh.close();
    const hits = await ds.search('vec', { vector: [4, 1] }, { k: 1 });
    expect((await ds.row(hits[0].row)).key).toBe(4);
    if (name === 'local') {
      const file = `${uri}-rows.parquet`;
      await ds.select(['key', 'caption']).toParquet(file);
      const back = await Dataset.fromParquet(file, `memory://parquet-${Date.now()}`);
      expect(await back.values('key')).toEqual([0, 2, 4, 6, 9]);
      expect(await back.values('caption')).toEqual(['c0', 'two', 'c4!', 'six', 'c9']);
      await back.close();
    }
    const table = await ds.select(['key', 'caption']).toArrow();
    expect(table.numRows).toBe(5);
    expect(Array.from(table.getChild('key')!.toArray() as Int32Array)).toEqual([0, 2, 4, 6, 9]);
    const pixels = await sharp(await ((await ds.row(4)).image as ImageCell).bytes())
      .raw()
      .toBuffer();
    expect(pixels.length).toBe(16 * 16 * 3);
    // time travel: every old version has its rows
    expect((await ds.checkout(1)).length).toBe(8);
    expect(await (await ds.checkout(2)).values('key')).toEqual([0, 2, 4, 6]);
    expect(await (await ds.checkout(3)).values('caption')).toEqual(['c0', 'c4', 'c6', 'two']);
    // reopened
    const again = await Dataset.open(uri, backend.options);
    expect(await tabular(again)).toEqual(await tabular(ds));
    if (name === 'memory') {
      // an index built before a delete is not used with stale row numbers after it
      await ds.createIndex('vec', { kind: 'hnsw' });
      expect(await ds.delete({ key: 9 })).toBe(1); // the last fragment: no other row moves
      const after = await ds.search('vec', { vector: [9, 1] }, { k: 1 });
      expect((await ds.row(after[0].row)).key).toBe(6);
      expect(await ds.update({ key: 0 }, { vec: [20, 1] })).toBe(1);
      const again = await ds.search('vec', { vector: [20, 1] }, { k: 1 });
      expect((await ds.row(again[0].row)).key).toBe(0);
    }
    await again.close();
    await ds.close();
  });

  it('bad input is a typed error and nothing is written', async () => {
    const uri = backend.uri();
    const ds = await Dataset.create(uri, { schema, ...backend.options });
    await ds.append([{ key: 1 }, { key: 2 }]);
    await ds.commit('two');
    await expect(ds.update({ key: 1 }, { key: 'not a number' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.update({ key: 1 }, { nope: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.delete({ rowIds: [7] })).rejects.toMatchObject({ code: 'NOT_FOUND', details: { row: 7 } });
    await expect(ds.merge([{ key: 3 }, { key: 3 }], { on: 'key' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.merge([{ caption: 'no key' }], { on: 'key' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.merge([{ key: 1 }], { on: 'image' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    ds.setMeta({ pending: true });
    await expect(ds.delete({ key: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await ds.rollback();
    const aborted = new AbortController();
    aborted.abort();
    await expect(ds.delete({ key: 1 }, { signal: aborted.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(ds.update({ key: 1 }, { caption: 'x' }, { signal: aborted.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect((await ds.versions()).map((v) => v.version)).toEqual([0, 1]);
    expect(await ds.values('key')).toEqual([1, 2]);
    expect(await ds.delete({ key: 99 })).toBe(0);
    expect(ds.version).toBe(1);
    await ds.close();
  });
});

describe('delete, update and merge against an array model (memory)', () => {
  it('random interleavings of append, delete, update and merge match the model at every version', async () => {
    for (const seed of [1, 2, 3]) {
      const rand = prng(seed);
      const pick = (n: number) => Math.floor(rand() * n);
      const ds = await Dataset.create(`memory://model-${seed}-${Date.now()}`, {
        schema: { key: 'int32', label: { htype: 'class_label' }, caption: 'text' },
        chunkSizeBytes: 256,
      });
      let model: ModelRow[] = [];
      let nextId = 0;
      let nextKey = 0;
      const history: ModelRow[][] = [[]];
      for (let step = 0; step < 14; step++) {
        const op = model.length === 0 ? 0 : pick(4);
        if (op === 0) {
          const n = 1 + pick(6);
          const rows = Array.from({ length: n }, () => ({
            key: nextKey++,
            label: ['a', 'b', 'c'][pick(3)],
            caption: `s${step}`,
          }));
          await ds.append(rows);
          await ds.commit('append');
          for (const r of rows) model.push({ id: nextId++, ...r });
        } else if (op === 1) {
          const label = ['a', 'b', 'c'][pick(3)];
          const removed = model.filter((r) => r.label === label).length;
          expect(await ds.delete({ label })).toBe(removed);
          model = model.filter((r) => r.label !== label);
        } else if (op === 2) {
          const ids = [...new Set(Array.from({ length: 1 + pick(3) }, () => model[pick(model.length)].id))];
          expect(await ds.update({ rowIds: ids }, { caption: `u${step}` })).toBe(ids.length);
          const changed = model.filter((r) => ids.includes(r.id)).map((r) => ({ ...r, caption: `u${step}` }));
          model = [...model.filter((r) => !ids.includes(r.id)), ...changed];
        } else {
          const existing = model[pick(model.length)];
          const fresh = nextKey++;
          const result = await ds.merge(
            [
              { key: existing.key, label: 'c' },
              { key: fresh, label: 'a', caption: `m${step}` },
            ],
            { on: 'key' },
          );
          expect(result).toEqual({ updated: 1, inserted: 1 });
          model = [
            ...model.filter((r) => r.id !== existing.id),
            { ...existing, label: 'c' },
            { id: nextId++, key: fresh, label: 'a', caption: `m${step}` },
          ];
        }
        if (op === 1 && ds.version === history.length - 1) continue; // nothing deleted: no commit
        history[ds.version] = model.map((r) => ({ ...r }));
        expect(await tabular(ds)).toEqual(model.map(({ key, label, caption }) => ({ key, label, caption })));
        expect(Array.from(await ds.rowIds())).toEqual(model.map((r) => r.id));
      }
      for (let v = 0; v < history.length; v++) {
        if (!history[v]) continue;
        const old = await ds.checkout(v);
        expect(await tabular(old)).toEqual(history[v].map(({ key, label, caption }) => ({ key, label, caption })));
        expect(Array.from(await old.rowIds())).toEqual(history[v].map((r) => r.id));
        for (const r of history[v]) expect(await old.rowPosition(r.id)).toBe(history[v].indexOf(r));
      }
      await ds.close();
    }
  });
});

describe('update and derived columns (memory)', () => {
  it('a derived column of a changed source loses its value; of an unchanged one keeps it', async () => {
    const ds = await Dataset.create(`memory://derived-${Date.now()}`, {
      schema: { caption: 'text', other: 'text', vec: { htype: 'embedding', dim: 2 } },
    });
    await ds.append([
      { caption: 'a', other: 'x', vec: [1, 1] },
      { caption: 'b', other: 'y', vec: [2, 2] },
    ]);
    ds.setColumnMeta('vec', { lineage: { sourceColumn: 'caption', model: { name: 'test' } } });
    await ds.commit('rows with derived vectors');
    expect(await ds.update({ caption: 'a' }, { other: 'z' })).toBe(1);
    expect(await ds.update({ caption: 'b' }, { caption: 'c' })).toBe(1);
    const vecs = (await ds.values('vec')) as (Float32Array | null)[];
    expect(await ds.values('caption')).toEqual(['a', 'c']);
    expect(Array.from(vecs[0]!)).toEqual([1, 1]);
    expect(vecs[1]).toBeNull();
    expect(await ds.storedLength('vec')).toBe(1); // not computed: the embed job fills it
    await ds.close();
  });
});

describe('concurrent delete and update through two Dataset handles (memory)', () => {
  it('the second to commit gets CONFLICT naming the row id, publishes nothing, and succeeds after refresh', async () => {
    const uri = `memory://handles-${Date.now()}`;
    const a = await Dataset.create(uri, { schema: { key: 'int32', caption: 'text' } });
    await a.append([0, 1, 2, 3].map((key) => ({ key, caption: `c${key}` })));
    await a.commit('rows');
    const b = await Dataset.open(uri, { storage: coreOf(a).storage });
    expect(await a.update({ key: 2 }, { caption: 'two' })).toBe(1);
    await expect(b.delete({ key: 2 })).rejects.toMatchObject({ code: 'CONFLICT', details: { row: 2 } });
    expect(b.version).toBe(1);
    expect(await b.delete({ key: 1 })).toBe(1); // another row of the same fragment: rebased, no conflict
    expect(b.version).toBe(3);
    await b.refresh();
    expect(await b.values('caption')).toEqual(['c0', 'c3', 'two']);
    expect(await b.delete({ key: 2 })).toBe(1);
    expect(Array.from(await b.rowIds())).toEqual([0, 3]);
    await b.close();
  });
});
