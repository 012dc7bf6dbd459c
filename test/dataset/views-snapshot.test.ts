/**
 * A view reads the version it was built on: commits to the dataset after the view was built
 * (deletes, updates, appends, through ds methods or ds.transaction()) never mix the old version's
 * row positions with the new version's data.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/index.js';

const schema = { key: 'int32', label: 'text', score: 'float64' } as const;
const rows = Array.from({ length: 12 }, (_, i) => ({ key: i, label: ['cat', 'dog', 'bird'][i % 3], score: i / 4 }));

let ds: Dataset;

beforeEach(async () => {
  ds = await Dataset.create(`memory://snapshot-${Date.now()}-${Math.random()}`, { schema });
  await ds.append(rows);
  await ds.commit('rows');
});

afterEach(async () => {
  await ds.close();
});

/** Views of every kind of row source, and what they read on version 1. */
const VIEWS: { name: string; build: () => Dataset; want: readonly object[] }[] = [
  {
    name: 'select (all rows)',
    build: () => ds.select(['key', 'label']),
    want: rows.map(({ key, label }) => ({ key, label })),
  },
  { name: 'head (known rows)', build: () => ds.head(5), want: rows.slice(0, 5) },
  { name: 'take', build: () => ds.take([7, 2, 9]), want: [7, 2, 9].map((i) => rows[i]) },
  {
    name: 'filter fn (pending)',
    build: () => ds.filter((r) => r.label === 'cat'),
    want: rows.filter((r) => r.label === 'cat'),
  },
  { name: 'filter expression', build: () => ds.filter("label = 'dog'"), want: rows.filter((r) => r.label === 'dog') },
  { name: 'sortBy', build: () => ds.sortBy([{ column: 'score', descending: true }]), want: [...rows].reverse() },
  {
    name: 'withColumn expression',
    build: () => ds.withColumn('double', 'score * 2').select(['key', 'double']),
    want: rows.map((r) => ({ key: r.key, double: r.score * 2 })),
  },
];

const changes: { name: string; run: () => Promise<unknown> }[] = [
  { name: 'delete', run: () => ds.delete({ label: 'cat' }) },
  { name: 'update', run: () => ds.update((r) => (r.key as number) < 6, { score: -1 }) },
  {
    name: 'append',
    run: async () => {
      await ds.append({ key: 100, label: 'cat', score: 99 });
      await ds.commit('one more');
    },
  },
  {
    name: 'transaction (delete + update + append)',
    run: async () => {
      await using tx = ds.transaction();
      await tx.delete({ key: 0 });
      await tx.update({ label: 'dog' }, { score: 50 });
      await tx.append({ key: 200, label: 'cat', score: 7 });
      await tx.commit('mixed');
    },
  },
];

describe.each(changes)('a view built before a commit ($name) reads the version it was built on', (change) => {
  it.each(VIEWS)('$name', async ({ build, want }) => {
    const view = build();
    const version = ds.version;
    await change.run();
    expect(ds.version).toBeGreaterThan(version);
    expect(view.version).toBe(version);
    expect(await view.toArray()).toEqual(want);
    expect(await view.count()).toBe(want.length);
  });
});

describe('a view resolved before a commit', () => {
  it('keeps reading its own version, and a view built after the commit reads the new one', async () => {
    const cats = ds.filter({ label: 'cat' });
    expect(await cats.values('key')).toEqual([0, 3, 6, 9]);
    await ds.update({ key: 3 }, { label: 'dog' });
    await ds.delete({ key: 0 });
    expect(await cats.values('key')).toEqual([0, 3, 6, 9]);
    expect((await cats.row(1)).label).toBe('cat');
    expect(await ds.filter({ label: 'cat' }).values('key')).toEqual([6, 9]);
    expect(await ds.values('key')).not.toContain(0);
  });

  it('a join reads the right-hand dataset as it was when the join was built', async () => {
    const right = await Dataset.create(`memory://snapshot-right-${Date.now()}`, {
      schema: { key: 'int32', w: 'text' },
    });
    await right.append([
      { key: 1, w: 'one' },
      { key: 2, w: 'two' },
    ]);
    await right.commit('right');
    const joined = ds.head(3).join(right, { on: 'key' });
    await right.update({ key: 1 }, { w: 'changed' });
    await right.delete({ key: 2 });
    expect(await joined.values('w')).toEqual([null, 'one', 'two']);
    await right.close();
  });
});
