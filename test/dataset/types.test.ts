/**
 * Row types inferred from the schema (checked by `npm run typecheck`, which compiles test/, and run
 * here so the runtime values match the types): `create` with an inline or `defineSchema` schema,
 * `open<S>()`, and verbs that keep, narrow or extend the row type.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Dataset,
  type ImageCell,
  type MediaCell,
  type RowOf,
  type Tensor,
  type VideoCell,
  count,
  defineSchema,
  max,
  mean,
} from '../../src/index.js';
import { makeJpeg } from '../helpers/media.js';

const schema = defineSchema({
  image: 'image',
  clip: { htype: 'video' },
  file: { htype: 'link', target: 'image' },
  any: 'link',
  label: { htype: 'class_label', classNames: ['cat', 'dog'] },
  caption: 'text',
  boxes: { htype: 'bbox' },
  emb: { htype: 'embedding', dim: 3 },
  meta: 'json',
  score: 'float32',
  big: { htype: 'generic', dtype: 'int64', shape: [] },
  flag: { htype: 'generic', dtype: 'bool', shape: [] },
  mask: { htype: 'generic', dtype: 'uint8', shape: [2, 2] },
});
type R = RowOf<typeof schema>;

describe('typed rows', () => {
  it('RowOf maps each htype to its decoded value, every column nullable', () => {
    expect(schema.label).toEqual({ htype: 'class_label', classNames: ['cat', 'dog'] }); // defineSchema returns it as is
    expectTypeOf<R['image']>().toEqualTypeOf<ImageCell | null>();
    expectTypeOf<R['clip']>().toEqualTypeOf<VideoCell | null>();
    expectTypeOf<R['file']>().toEqualTypeOf<ImageCell | null>();
    expectTypeOf<R['any']>().toEqualTypeOf<MediaCell | null>();
    expectTypeOf<R['label']>().toEqualTypeOf<string | null>();
    expectTypeOf<R['caption']>().toEqualTypeOf<string | null>();
    expectTypeOf<R['boxes']>().toEqualTypeOf<number[][] | null>();
    expectTypeOf<R['emb']>().toEqualTypeOf<Float32Array | null>();
    expectTypeOf<R['meta']>().toEqualTypeOf<unknown>();
    expectTypeOf<R['score']>().toEqualTypeOf<number | Tensor | null>();
    expectTypeOf<R['big']>().toEqualTypeOf<bigint | null>();
    expectTypeOf<R['flag']>().toEqualTypeOf<boolean | null>();
    expectTypeOf<R['mask']>().toEqualTypeOf<Tensor | null>();
    expectTypeOf<keyof R>().toEqualTypeOf<keyof typeof schema>();
  });

  it('create infers the row type; row(), values() and verbs keep, narrow or extend it', async () => {
    const ds = await Dataset.create('memory://', {
      schema: {
        image: 'image',
        label: 'class_label',
        caption: 'text',
        width: { htype: 'generic', dtype: 'int32', shape: [] },
      },
    });
    await ds.append([
      { image: await makeJpeg({ width: 8, height: 6 }), label: 'cat', caption: 'a', width: 8 },
      { image: null, label: 'dog', caption: null, width: 30 },
    ]);
    await ds.commit('two');

    const row = await ds.row(0);
    expectTypeOf(row.image).toEqualTypeOf<ImageCell | null>();
    expectTypeOf(row.label).toEqualTypeOf<string | null>();
    expectTypeOf(row.width).toEqualTypeOf<number | null>();
    expect(row.image?.shape).toEqual([6, 8, 3]);
    expect(row.label).toBe('cat');

    const labels = await ds.values('label');
    expectTypeOf(labels).toEqualTypeOf<(string | null)[]>();
    expect(labels).toEqual(['cat', 'dog']);

    const picked = ds.select(['label', 'width']);
    expectTypeOf(await picked.row(0)).toEqualTypeOf<{ label: string | null; width: number | null }>();
    // @ts-expect-error -- not a column of the view (and NOT_FOUND at run time)
    expect(() => ds.select(['nope'])).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));

    const wide = ds.withColumn('area', (r) => (r.width ?? 0) * 2).drop(['image']);
    const w = await wide.row(1);
    expectTypeOf(w).toEqualTypeOf<{
      label: string | null;
      caption: string | null;
      width: number | null;
      area: number;
    }>();
    expect(w).toEqual({ label: 'dog', caption: null, width: 30, area: 60 });

    const renamed = await ds.rename({ caption: 'text' }).select(['text']).row(0);
    expectTypeOf(renamed).toEqualTypeOf<{ text: string | null }>();
    expect(renamed).toEqual({ text: 'a' });

    const filled = await ds.fillNulls({ caption: '' }).dropNulls(['width']).values('caption');
    expectTypeOf(filled).toEqualTypeOf<string[]>();
    expect(filled).toEqual(['a', '']);

    const filtered = ds.filter((r) => (r.width ?? 0) > 10).sortBy([{ column: 'width', descending: true }]);
    expectTypeOf(filtered).toEqualTypeOf<typeof ds>();
    // @ts-expect-error -- sort keys are columns
    expect(() => ds.sortBy('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));

    const groups = await ds.groupBy('label').agg({ n: count(), w: mean('width'), top: max('width') });
    expectTypeOf(groups).toEqualTypeOf<
      Array<{ label: string | null } & { n: number; w: number | null; top: number | null }>
    >();
    expect(groups).toEqual([
      { label: 'cat', n: 1, w: 8, top: 8 },
      { label: 'dog', n: 1, w: 30, top: 30 },
    ]);

    const joined = await ds
      .join([{ label: 'cat', legs: 4 }], { on: 'label' })
      .select(['label', 'legs'])
      .toArray();
    expectTypeOf(joined).toEqualTypeOf<{ label: string | null; legs: number | null }[]>();
    expect(joined).toEqual([
      { label: 'cat', legs: 4 },
      { label: 'dog', legs: null },
    ]);

    const { train } = ds.split({ train: 0.5, test: 0.5 }, { seed: 1 });
    expectTypeOf(train).toEqualTypeOf<typeof ds>();

    // open<S>() types an opened dataset; open() without a type is untyped
    const storageUri = ds.uri;
    expect(storageUri.startsWith('memory://')).toBe(true);
    expectTypeOf<Awaited<ReturnType<typeof Dataset.open<typeof schema>>>>().toEqualTypeOf<Dataset<R>>();
    expectTypeOf<Awaited<ReturnType<typeof Dataset.open>>>().toEqualTypeOf<Dataset>();
    await ds.close();
  });
});
