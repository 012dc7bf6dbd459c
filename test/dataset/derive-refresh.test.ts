import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Dataset } from '../../src/dataset/dataset.js';
import { coreOf } from '../../src/dataset/internal.js';
import { staleColumns } from '../../src/dataset/derived/row-lineage.js';
import type { Sample } from '../../src/format/chunk.js';

const mem = () => `memory://derive-${randomBytes(6).toString('hex')}`;

async function captions(n: number): Promise<Dataset> {
  const ds = await Dataset.create(mem(), { schema: { caption: 'text', score: 'float64', id: 'int32' } });
  await ds.append(
    Array.from({ length: n }, (_, i) => ({ caption: 'w '.repeat((i % 7) + 1).trim(), score: i / 10, id: i })),
  );
  await ds.commit('rows');
  return ds;
}

describe('derive(..., { persist: true })', () => {
  it('writes the column with lineage in one commit and refreshes exactly the rows whose inputs changed', async () => {
    await using ds = await captions(50);
    let calls = 0;
    const words = (r: Readonly<Record<string, unknown>>) => {
      calls++;
      return (r.caption as string).split(' ').length + (r.score as number);
    };
    const v0 = ds.version;
    const s = await ds.derive('n_words', words, { persist: true, inputs: ['caption', 'score'] });
    expect(s).toMatchObject({ column: 'n_words', recomputed: 50, version: v0 + 1 });
    expect(calls).toBe(50);
    expect(ds.columns).toEqual(['caption', 'score', 'id', 'n_words']);
    expect(ds.columnMeta('n_words').lineage).toMatchObject({
      kind: 'strata.derived',
      inputs: ['caption', 'score'],
    });
    expect((ds.columnMeta('n_words').lineage as { fingerprint: string }).fingerprint).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(await ds.values('n_words')).toEqual(Array.from({ length: 50 }, (_, i) => (i % 7) + 1 + i / 10));
    expect(await ds.staleRows('n_words')).toEqual([]);

    // an update of an input makes those rows stale; of another column, not
    await ds.update({ rowIds: [3, 4, 5] }, { caption: 'a b c d e f g h i j' });
    await ds.update({ rowIds: [6] }, { id: 600 });
    const stalePositions = await ds.staleRows('n_words');
    expect(stalePositions).toHaveLength(3);
    const r = await ds.row(stalePositions[0]);
    expect(r.n_words).toBeNull();
    expect(staleColumns(r)).toEqual(['n_words']);
    expect(Object.keys(r)).toEqual(['caption', 'score', 'id', 'n_words']);
    const fresh = await ds.row(0);
    expect(staleColumns(fresh)).toEqual([]);
    const flagged: number[] = [];
    let i = 0;
    for await (const batch of ds.iterRows({ batchSize: 16 }))
      for (const row of batch) {
        if (staleColumns(row).includes('n_words')) {
          expect(row.n_words).toBeNull();
          flagged.push(i);
        }
        i++;
      }
    expect(flagged).toEqual(stalePositions);

    // appended rows are stale too
    await ds.append([{ caption: 'x y', score: 1, id: 50 }]);
    await ds.commit('one more');
    expect(await ds.staleRows('n_words')).toHaveLength(4);

    calls = 0;
    const before = ds.version;
    const rs = await ds.refresh('n_words');
    expect(rs).toMatchObject({ stale: 4, recomputed: 4, cleared: 0, version: before + 1 });
    expect(calls).toBe(4);
    expect(await ds.staleRows('n_words')).toEqual([]);
    const ids = (await ds.values('id')) as number[];
    const nw = (await ds.values('n_words')) as number[];
    const caps = (await ds.values('caption')) as string[];
    const scores = (await ds.values('score')) as number[];
    for (let i = 0; i < ds.length; i++) expect(nw[i]).toBe(caps[i].split(' ').length + scores[i]);
    expect(ids).toContain(600);
    expect(staleColumns(await ds.row(stalePositions[0]))).toEqual([]);
    // nothing stale: refresh is a no-op
    expect(await ds.refresh('n_words')).toMatchObject({ recomputed: 0, version: before + 1 });
  });

  it('onStale: error makes a read of a stale value throw CONFLICT naming the row', async () => {
    const uri = mem();
    {
      await using ds = await Dataset.create(uri, { schema: { caption: 'text' } });
      await ds.append([{ caption: 'a' }, { caption: 'b c' }]);
      await ds.commit('rows');
      await ds.derive('len', (r) => (r.caption as string).length, { persist: true, inputs: ['caption'] });
      await ds.append([{ caption: 'def' }]);
      await ds.commit('append');
    }
    await using strict = await Dataset.open(uri, { onStale: 'error' });
    expect((await strict.row(0)).len).toBe(1);
    await expect(strict.row(2)).rejects.toMatchObject({ code: 'CONFLICT', details: { column: 'len', row: 2 } });
    await expect(strict.values('len')).rejects.toMatchObject({ code: 'CONFLICT' });
    await using lax = await Dataset.open(uri);
    expect(await lax.values('len')).toEqual([1, 3, null]);
  });

  it('a value written by hand is stale and refresh replaces it (keeping the row id)', async () => {
    await using ds = await captions(5);
    const len = (r: Readonly<Record<string, unknown>>) => (r.caption as string).length;
    await ds.derive('len', len, { persist: true, inputs: ['caption'], version: 'len@1' });
    await ds.append([{ caption: 'abcd', score: 0, id: 5, len: 99 }]);
    await ds.commit('hand-written');
    await ds.update({ rowIds: [0] }, { len: 42 });
    expect((await ds.staleRows('len')).length).toBe(2);
    expect(await ds.values('len')).not.toContain(99);
    const s = await ds.refresh('len', { fn: len, version: 'len@1' });
    expect(s).toMatchObject({ stale: 2, recomputed: 2, cleared: 2 });
    const byId = new Map<number, unknown>();
    const ids = await ds.rowIds();
    const values = await ds.values('len');
    ids.forEach((id, i) => byId.set(id, values[i]));
    expect(byId.get(0)).toBe(1);
    expect(byId.get(5)).toBe(4);
    expect(await ds.staleRows('len')).toEqual([]);
  });

  it('refuses another function (CONFLICT), a missing function (INVALID_ARGUMENT) and derive without persist', async () => {
    await using ds = await captions(3);
    await ds.derive('len', (r) => (r.caption as string).length, { persist: true, inputs: ['caption'], version: 'v1' });
    await ds.append([{ caption: 'zz', score: 0, id: 3 }]);
    await ds.commit('append');
    await expect(
      ds.refresh('len', { fn: (r: Record<string, unknown>) => r.caption, version: 'v2' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      ds.derive('len', (r) => (r.caption as string).length + 1, { persist: true, inputs: ['caption'], version: 'v2' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(
      ds.derive('other', (r) => r.caption, { persist: false as unknown as true, inputs: ['caption'] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.derive('other', (r) => r.caption, { persist: true, inputs: ['nope'] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(ds.refresh('score')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('verify finds a value whose input a foreign writer changed without clearing it, and refresh fixes it', async () => {
    await using ds = await captions(6);
    const len = (r: Readonly<Record<string, unknown>>) => (r.caption as string).length;
    await ds.derive('len', len, { persist: true, inputs: ['caption'], version: 'len@1' });
    // a writer that bypasses per-row lineage: rewrites row 2 with a new caption, keeping len and its stamp
    const core = coreOf(ds);
    const txn = core.transaction();
    const samples: Record<string, Sample | null> = {};
    for (const c of core.manifest.columns) samples[c.name] = await core.reader(c.name).sample(2);
    samples.caption = { bytes: new TextEncoder().encode('a much longer caption'), shape: [] };
    const rowId = await txn.deleteRow(2);
    await txn.appendRow(samples, { rowId });
    await core.commit('foreign writer');
    expect(await ds.staleRows('len')).toEqual([]);
    expect(await ds.staleRows('len', { verify: true })).toEqual([5]);
    expect(await ds.refresh('len', { fn: len, version: 'len@1' })).toMatchObject({ recomputed: 0 });
    const s = await ds.refresh('len', { fn: len, version: 'len@1', verify: true });
    expect(s).toMatchObject({ cleared: 1, recomputed: 1 });
    expect(await ds.staleRows('len', { verify: true })).toEqual([]);
    expect((await ds.row(5)).len).toBe('a much longer caption'.length);
  });

  it('an aborted refresh publishes nothing', async () => {
    await using ds = await captions(40);
    await ds.derive('len', (r) => (r.caption as string).length, { persist: true, inputs: ['caption'], version: 'v' });
    await ds.update((r) => (r.id as number) < 20, { caption: 'changed' });
    const v = ds.version;
    const ac = new AbortController();
    let seen = 0;
    const fn = (r: Readonly<Record<string, unknown>>) => {
      if (++seen === 10) ac.abort();
      return (r.caption as string).length;
    };
    await expect(ds.refresh('len', { fn, version: 'v', signal: ac.signal, batchSize: 8 })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(ds.version).toBe(v);
    await ds.refresh({});
    expect(ds.version).toBe(v);
    expect(await ds.staleRows('len')).toHaveLength(20);
    expect(ds.hasPendingChanges).toBe(false);
  });
});
