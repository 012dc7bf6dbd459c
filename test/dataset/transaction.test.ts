import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Dataset } from '../../src/dataset/dataset.js';

const mem = () => `memory://transaction-${randomBytes(6).toString('hex')}`;

async function animals(): Promise<Dataset> {
  const ds = await Dataset.create(mem(), { schema: { id: 'int64', label: 'text', score: 'float32' } });
  await ds.append([
    { id: 1n, label: 'cat', score: 0.1 },
    { id: 2n, label: 'dog', score: 0.2 },
    { id: 3n, label: 'owl', score: 0.3 },
  ]);
  await ds.commit('three rows');
  return ds;
}

const rows = async (ds: Dataset) =>
  (await ds.toArray()).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );

describe('ds.transaction()', () => {
  it('appends, adds a column, updates, deletes, merges and sets metadata as exactly one version', async () => {
    const ds = await animals();
    const before = (await ds.versions()).length;
    const tx = ds.transaction();
    tx.addColumn('note', 'text');
    await tx.append({ id: 4n, label: 'elk', score: 0.4, note: 'new' });
    expect(await tx.update({ label: 'cat' }, { score: 0.9 })).toBe(1);
    expect(await tx.delete({ label: 'dog' })).toBe(1);
    expect(
      await tx.merge(
        [
          { id: 3n, label: 'owl', score: 0.33 },
          { id: 5n, label: 'fox', score: 0.5 },
        ],
        { on: 'id' },
      ),
    ).toEqual({
      updated: 1,
      inserted: 1,
    });
    tx.setMeta({ owner: 'zoo' });
    tx.setColumnMeta('label', { doc: 'species' });
    expect(ds.version).toBe(1); // nothing published yet: readers see the version it started from
    expect(await ds.values('label')).toEqual(['cat', 'dog', 'owl']);
    const v = await tx.commit('one change of every kind');
    expect(v).toBe(2);
    expect(tx.state).toBe('committed');
    expect((await ds.versions()).length).toBe(before + 1);
    expect(ds.hasPendingChanges).toBe(false);
    const again = await Dataset.open(ds.uri);
    for (const d of [ds, again]) {
      expect((await rows(d)).sort((a, b) => (a.id as number) - (b.id as number))).toEqual([
        { id: 1, label: 'cat', score: expect.closeTo(0.9, 5) as number, note: null },
        { id: 3, label: 'owl', score: expect.closeTo(0.33, 5) as number, note: null },
        { id: 4, label: 'elk', score: expect.closeTo(0.4, 5) as number, note: 'new' },
        { id: 5, label: 'fox', score: expect.closeTo(0.5, 5) as number, note: null },
      ]);
      expect(d.meta.owner).toBe('zoo');
      expect(d.columnMeta('label').doc).toBe('species');
    }
    // the implicit transaction still works afterwards
    await ds.append({ id: 6n, label: 'emu', score: 0.6 });
    expect(await ds.commit('implicit')).toBe(3);
  });

  it('leaving an `await using` scope without commit rolls back: no version, nothing pending', async () => {
    const ds = await animals();
    const versions = await ds.versions();
    let escaped: { state: string } | undefined;
    {
      await using tx = ds.transaction();
      escaped = tx;
      tx.addColumn('note', 'text');
      await tx.append([{ id: 4n, label: 'elk', score: 0.4 }]);
      await tx.update({ label: 'cat' }, { score: 0.9 });
      await tx.delete({ label: 'dog' });
      expect(ds.hasPendingChanges).toBe(true);
    }
    expect(escaped.state).toBe('rolledBack');
    expect(ds.hasPendingChanges).toBe(false);
    expect(ds.version).toBe(1);
    expect(await ds.versions()).toEqual(versions);
    expect(ds.columns).toEqual(['id', 'label', 'score']);
    const reopened = await Dataset.open(ds.uri);
    expect(reopened.version).toBe(1);
    expect(await ds.values('label')).toEqual(['cat', 'dog', 'owl']);
    // a new transaction (or an implicit write) starts from a clean state
    const tx = ds.transaction();
    await tx.append({ id: 4n, label: 'elk', score: 0.4 });
    expect(await tx.commit()).toBe(2);
    expect(ds.length).toBe(4);
  });

  it('misuse gets INVALID_ARGUMENT and leaves staged changes as they were', async () => {
    const ds = await animals();
    expect(() => ds.head(2).transaction()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await ds.append({ id: 9n, label: 'pending', score: 0 });
    expect(() => ds.transaction()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await ds.rollback();

    const tx = ds.transaction();
    expect(() => ds.transaction()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // the dataset's own writes are refused while the transaction is open
    await expect(ds.append({ id: 7n, label: 'x', score: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => ds.addColumn('x', 'text')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(ds.delete({ label: 'cat' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.commit('outside')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await tx.append({ id: 4n, label: 'elk', score: 0.4 });
    // a bad row is refused without touching what is staged
    await expect(
      tx.append([
        { id: 5n, label: 'ok', score: 0.5 },
        { id: 6n, nope: 1 },
      ]),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(tx.update({ label: 'cat' }, { nope: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await tx.commit('one row')).toBe(2);
    expect(await ds.values('label')).toEqual(['cat', 'dog', 'owl', 'elk']);
    // a finished transaction takes no more changes
    await expect(tx.append({ id: 8n, label: 'late', score: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => tx.setMeta({ a: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(tx.commit()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await tx.rollback(); // idempotent: stays committed
    expect(tx.state).toBe('committed');
  });

  it('a transaction that staged nothing publishes no version; closing the dataset ends an open one', async () => {
    const ds = await animals();
    const tx = ds.transaction();
    expect(ds.hasPendingChanges).toBe(true); // an open transaction counts: optimize, embed and mergeBranch wait for it
    await expect(ds.optimize()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await tx.commit('nothing')).toBe(1);
    expect(ds.hasPendingChanges).toBe(false);
    expect((await ds.versions()).length).toBe(2);
    const open = ds.transaction();
    await open.append({ id: 4n, label: 'elk', score: 0.4 });
    await ds.close();
    expect(open.state).toBe('rolledBack');
    await expect(open.append({ id: 5n, label: 'x', score: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
