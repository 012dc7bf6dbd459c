/**
 * Lazy views: built synchronously without reading, resolved once by an awaited terminal; `length`
 * rules; typed errors of the verbs; computed columns in every read path; saved views (splits).
 */
import { tableFromJSON } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dataset, count, mean } from '../../src/index.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { CountingStorage } from '../helpers/counting-storage.js';

const schema = { key: 'int32', label: 'class_label', score: 'float32', note: 'text' } as const;
const rows = Array.from({ length: 20 }, (_, i) => ({
  key: i,
  label: ['cat', 'dog', 'bird'][i % 3],
  score: i / 2,
  note: i % 4 === 0 ? null : `n${i}`,
}));

let storage: CountingStorage;
let ds: Dataset;
let uri: string;

beforeEach(async () => {
  const inner = new MemoryStorage();
  uri = inner.uri;
  storage = new CountingStorage(inner);
  const created = await Dataset.create(uri, { schema, storage, chunkSizeBytes: 64 });
  await created.append(rows);
  await created.commit('rows');
  ds = created;
});

afterEach(async () => {
  await ds.close();
});

describe('lazy views', () => {
  it('are built synchronously without reading anything, and resolved once by the first terminal', async () => {
    const before = storage.reads.length;
    let calls = 0;
    const v = ds
      .filter((r) => (calls++, (r.key as number) % 2 === 0))
      .sortBy([{ column: 'score', descending: true }])
      .withColumn('double', (r) => (r.score as number) * 2)
      .head(3);
    expect(v).toBeInstanceOf(Dataset);
    expect(storage.reads.length).toBe(before);
    expect(calls).toBe(0);
    expect(await v.values('key')).toEqual([18, 16, 14]);
    expect(calls).toBe(20);
    expect(await v.values('double')).toEqual([18, 16, 14]);
    expect((await v.row(0)).double).toBe(18);
    expect(await v.count()).toBe(3);
    expect(calls).toBe(20); // cached
    expect(await v.toArray()).toHaveLength(3);
  });

  it('length: known for the dataset, for views computable without data, and after collect(); else a typed error', async () => {
    expect(ds.length).toBe(20);
    expect(ds.head(4).length).toBe(4);
    expect(ds.slice(-5).length).toBe(5);
    expect(ds.select(['key']).sample(7, { seed: 1 }).length).toBe(7);
    const f = ds.filter({ label: 'cat' });
    expect(() => f.length).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => f.indices()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(f.toString()).toContain('? rows');
    expect(await f.count()).toBe(7);
    const c = await f.collect();
    expect(c.length).toBe(7);
    expect(Array.from(c.indices())).toEqual([0, 3, 6, 9, 12, 15, 18]);
    // awaiting a view returns it (it is not a thenable)
    // eslint-disable-next-line @typescript-eslint/await-thenable -- the point of the test: old code awaited filter()
    const awaited = await ds.filter({ label: 'dog' });
    expect(await awaited.count()).toBe(7);
  });

  it('verbs fail fast with typed errors', async () => {
    expect(() => ds.filter({ nope: 1 })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => ds.filter('nope = 1')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => ds.sortBy('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => ds.sortBy([])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => ds.rename({ key: 'label' })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() => ds.join([{ key: 1, label: 'x' }], { on: 'key' })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => ds.sample({ fraction: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => ds.split({ a: 0.8, b: 0.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => ds.select(['key']).concat(ds as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => ds.groupBy('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await expect(ds.groupBy('label').agg({ m: mean('note') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const computed = ds.withColumn('x', () => 1);
    await expect(computed.describe()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(computed.batches().next()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(ds.filter({ label: 'cat' }).append({ key: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Another dataset concatenates when its columns match (views-concat.test.ts), not otherwise.
    const other = await Dataset.create(`memory://views-other-${Date.now()}`, { schema: { key: 'int32' } });
    expect(() => ds.concat(other as unknown as Dataset)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await other.close();
  });

  it('a computed, renamed or joined column shows in rows, values, format and toArrow', async () => {
    const v = ds
      .rename({ note: 'comment' })
      .join([{ label: 'cat', legs: 4 }], { on: 'label' })
      .withColumn('big', (r) => (r.score as number) > 5)
      .filter({ big: true, legs: 4 });
    expect(v.columns).toEqual(['key', 'label', 'score', 'comment', 'legs', 'big']);
    expect(await v.values('key')).toEqual([12, 15, 18]);
    expect(await v.row(0)).toEqual({ key: 12, label: 'cat', score: 6, comment: null, legs: 4, big: true });
    const text = await v.format();
    expect(text).toContain('comment');
    expect(text).toContain('[3 rows × 6 columns]');
    const t = await v.toArrow();
    expect(t.numRows).toBe(3);
    expect(t.schema.fields.map((f) => f.name)).toEqual(v.columns);
    expect([...(t.getChild('big') ?? [])]).toEqual([true, true, true]);
    const arrow = tableFromJSON([
      { label: 'dog', legs: 4 },
      { label: 'bird', legs: 2 },
      { label: 'bird', legs: 3 },
    ]);
    const viaArrow = ds.join(arrow, { on: 'label', how: 'inner' }).filter((r) => (r.key as number) < 6);
    expect(viaArrow.columns).toEqual(['key', 'label', 'score', 'note', 'legs']);
    expect(await viaArrow.select(['key', 'legs']).toArray()).toEqual([
      { key: 1, legs: 4 },
      { key: 2, legs: 2 },
      { key: 2, legs: 3 },
      { key: 4, legs: 4 },
      { key: 5, legs: 2 },
      { key: 5, legs: 3 },
    ]);
    expect(await ds.groupBy('label').agg({ n: count(), s: mean('score') })).toEqual([
      { label: 'cat', n: 7, s: 4.5 },
      { label: 'dog', n: 7, s: 5 },
      { label: 'bird', n: 6, s: 4.75 },
    ]);
  });
});

describe('saved views', () => {
  it('a split saved by name reloads as the same rows after appends, updates and deletes', async () => {
    const { train, val } = ds.split({ train: 0.75, val: 0.25 }, { seed: 3, stratifyBy: 'label' });
    const trainKeys = await train.values('key');
    const valKeys = await val.values('key');
    expect([...trainKeys, ...valKeys].sort((a, b) => (a as number) - (b as number))).toEqual(rows.map((r) => r.key));
    await ds.saveView('train', train);
    await ds.saveView('val', val.select(['key', 'label']));
    await expect(ds.saveView('train', val)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(
      ds.saveView(
        'x',
        ds.withColumn('y', () => 1),
      ),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect((await ds.savedViews()).map((v) => [v.name, v.columns])).toEqual([
      ['train', null],
      ['val', ['key', 'label']],
    ]);

    await ds.append({ key: 100, label: 'cat', score: 1, note: 'new' });
    await ds.commit('more');
    await ds.update({ key: trainKeys[0] }, { note: 'changed' });
    await ds.delete({ key: trainKeys[1] });

    const again = await Dataset.open(uri, { storage });
    const t = await again.loadView('train');
    expect(await t.values('key')).toEqual(trainKeys.filter((k) => k !== trainKeys[1]));
    expect((await t.row(0)).note).toBe('changed');
    const v = await again.loadView('val');
    expect(v.columns).toEqual(['key', 'label']);
    expect(await v.values('key')).toEqual(valKeys);
    await again.deleteView('val');
    await expect(again.loadView('val')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(again.saveView('../x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await again.close();
  });
});
