/**
 * concat across datasets and versions (pandas/Arquero `concat`): views of different datasets with
 * the same column names and types concatenate, each row (media included) read from its own
 * dataset; terminals and later verbs work on the result; different schemas fail naming the columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, type ImageCell } from '../../src/index.js';
import { makeJpeg } from '../helpers/media.js';

const schema = { id: 'int32', label: 'text', score: 'float64', img: 'image' } as const;

let a: Dataset;
let b: Dataset;
const jpegA: Uint8Array[] = [];
const jpegB: Uint8Array[] = [];

async function create(name: string, rows: Record<string, unknown>[], s: object = schema): Promise<Dataset> {
  const ds = await Dataset.create(`memory://concat-${name}-${Date.now()}`, { schema: s as typeof schema });
  await ds.append(rows);
  await ds.commit('rows');
  return ds;
}

beforeAll(async () => {
  for (let i = 0; i < 4; i++) jpegA.push(await makeJpeg({ width: 8 + i, height: 6, seed: i }));
  for (let i = 0; i < 3; i++) jpegB.push(await makeJpeg({ width: 20 + i, height: 10, seed: 10 + i }));
  a = await create(
    'a',
    jpegA.map((img, i) => ({ id: i, label: `a${i}`, score: i / 2, img })),
  );
  b = await create(
    'b',
    jpegB.map((img, i) => ({ id: 100 + i, label: i === 1 ? null : `b${i}`, score: 10 + i, img })),
  );
});

afterAll(async () => {
  await a?.close();
  await b?.close();
});

describe('concat across datasets', () => {
  it('reads each row, media included, from its own dataset through every terminal', async () => {
    const v = a.filter((r) => (r.id as number) % 2 === 0).concat(b.sortBy([{ column: 'id', descending: true }]));
    expect(v.columns).toEqual(['id', 'label', 'score', 'img']);
    expect(await v.values('id')).toEqual([0, 2, 102, 101, 100]);
    expect(await v.count()).toBe(5);
    expect((await v.collect()).length).toBe(5);
    const rows = await v.toArray();
    expect(rows.map((r) => [r.label, r.score])).toEqual([
      ['a0', 0],
      ['a2', 1],
      ['b2', 12],
      [null, 11],
      ['b0', 10],
    ]);
    const want = [jpegA[0], jpegA[2], jpegB[2], jpegB[1], jpegB[0]];
    for (let i = 0; i < want.length; i++) {
      expect(await ((await v.row(i)).img as ImageCell).bytes()).toEqual(want[i]);
      expect(await (rows[i].img as ImageCell).bytes()).toEqual(want[i]);
    }
    expect((await v.row(-1)).id).toBe(100);

    const arrow = await v.toArrow();
    expect(arrow.numRows).toBe(5);
    expect(arrow.schema.fields.map((f) => f.name).filter((n) => !n.endsWith('__shape'))).toEqual([
      'id',
      'label',
      'score',
      'img',
    ]);
    expect(Array.from(arrow.getChild('id') ?? [], Number)).toEqual([0, 2, 102, 101, 100]);
    expect(Array.from(arrow.getChild('label') ?? [])).toEqual(['a0', 'a2', 'b2', null, 'b0']);
    const img = arrow.getChild('img')!;
    for (let i = 0; i < want.length; i++) expect(new Uint8Array(img.get(i) as Uint8Array)).toEqual(want[i]);

    await expect(v.rowIds()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(v.sql('SELECT count(*) FROM ds')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('later verbs (filter, expressions, sortBy, head, select, withColumn, concat again) work on the concatenation', async () => {
    const v = a.concat(b.select(['score', 'img', 'label', 'id']));
    expect(await v.filter('score > 1 AND label IS NOT NULL').values('id')).toEqual([3, 100, 102]);
    expect(await v.filter({ label: null }).values('id')).toEqual([101]);
    expect(
      await v
        .sortBy([{ column: 'score', descending: true }])
        .head(2)
        .values('id'),
    ).toEqual([102, 101]);
    const w = v.withColumn('s2', 'score * 2').select(['id', 's2']);
    expect(await w.values('s2')).toEqual([0, 1, 2, 3, 20, 22, 24]);
    expect(await w.toArray()).toContainEqual({ id: 101, s2: 22 });
    const again = v.concat(a.head(1));
    expect(await again.values('id')).toEqual([0, 1, 2, 3, 100, 101, 102, 0]);
    expect(await ((await again.row(7)).img as ImageCell).bytes()).toEqual(jpegA[0]);
    expect(await (await again.collect()).values('label')).toEqual(['a0', 'a1', 'a2', 'a3', 'b0', null, 'b2', 'a0']);
  });

  it('concatenates two versions of one dataset', async () => {
    const ds = await create(
      'versions',
      [0, 1, 2].map((i) => ({ id: i, label: `v1-${i}`, score: i, img: jpegA[i] })),
    );
    const old = ds.head(2);
    await ds.delete({ id: 0 });
    await ds.append({ id: 9, label: 'v3', score: 9, img: jpegB[0] });
    await ds.commit('append');
    const v = old.concat(ds.select(['id', 'label', 'score', 'img']));
    expect(await v.values('label')).toEqual(['v1-0', 'v1-1', 'v1-1', 'v1-2', 'v3']);
    expect(await ((await v.row(4)).img as ImageCell).bytes()).toEqual(jpegB[0]);
    await ds.close();
  });

  it('different schemas fail with INVALID_ARGUMENT naming the mismatched columns', async () => {
    const other = await create('other', [{ id: 1, label: 'x', score: 2 }], {
      id: 'int32',
      label: 'text',
      score: 'int32',
    });
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(thrown(() => (a.select(['id', 'label', 'score']) as Dataset).concat(other))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { columns: ['score'], column: 'score' },
    });
    expect(thrown(() => a.concat(other))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { columns: ['img', 'score'] },
    });
    expect(thrown(() => (a.select(['id']) as Dataset).concat(b.select(['id', 'label'])))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { columns: ['label'] },
    });
    await other.close();
  });
});
