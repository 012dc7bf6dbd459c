/** Search hits carry the stable row id next to the position: external references key on the id. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { searchDataset } from '../../src/dataset/search/dataset-search.js';
import { type Backend, startBackend } from '../helpers/backends.js';

const schema = { key: 'int32', vec: { htype: 'embedding', dim: 2 } } as const;

describe.each(['memory', 'local'] as const)('search hits and stable row ids (%s)', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend.stop();
  });

  it("a hit's rowId names the same row after earlier rows are deleted or it is updated; row is its current position", async () => {
    const ds = await Dataset.create(backend.uri(), { schema, ...backend.options });
    // two fragments; vector [k, 1] for key k: by l2 distance the rows nearest [8.2, 1] are keys 8, 9, 7
    await ds.append(Array.from({ length: 6 }, (_, k) => ({ key: k, vec: [k, 1] })));
    await ds.commit('first six');
    await ds.append(Array.from({ length: 6 }, (_, k) => ({ key: 6 + k, vec: [6 + k, 1] })));
    await ds.commit('next six');
    const idOf = new Map((await ds.values('key')).map((k, i) => [k as number, i]));
    const ids = await ds.rowIds();
    const before = await ds.search('vec', { vector: [8.2, 1] }, { k: 3, metric: 'l2' });
    expect(before.map((h) => h.row)).toEqual([8, 9, 7].map((k) => idOf.get(k)));
    expect(before.map((h) => h.rowId)).toEqual(before.map((h) => ids[h.row]));
    const v2 = ds.version;

    expect(await ds.delete((r) => (r.key as number) < 3 || r.key === 7)).toBe(4);
    const after = await ds.search('vec', { vector: [8.2, 1] }, { k: 1, metric: 'l2' });
    expect(after[0].rowId).toBe(before[0].rowId);
    expect(after[0].row).toBe(4); // keys 3, 4, 5, 6, 8: it moved up four places
    expect((await ds.row(after[0].row)).key).toBe(8);
    expect((await ds.rowIds())[after[0].row]).toBe(after[0].rowId);
    expect(await ds.rowPosition(after[0].rowId)).toBe(after[0].row);

    // an update keeps the id and moves the row to the end
    expect(await ds.update({ key: 8 }, { vec: [100, 1] })).toBe(1);
    const moved = await ds.search('vec', { vector: [100, 1] }, { k: 1, metric: 'l2' });
    expect(moved[0]).toMatchObject({ rowId: before[0].rowId, row: ds.length - 1 });
    // the index path (HNSW) carries ids too
    await ds.createIndex('vec', { kind: 'hnsw' });
    const { hits: indexed, plan } = await searchDataset(ds, 'vec', { vector: [100, 1] }, { k: 2 });
    expect(plan.method).toBe('hnsw');
    expect(indexed[0]).toMatchObject({ rowId: before[0].rowId, row: ds.length - 1 });
    const now = await ds.rowIds();
    expect(indexed.map((h) => h.rowId)).toEqual(indexed.map((h) => now[h.row]));
    // time travel: the old version's positions, the same ids
    const old = await ds.search('vec', { vector: [8.2, 1] }, { k: 3, metric: 'l2', version: v2 });
    expect(old).toEqual(before);
    await ds.close();
  });
});
