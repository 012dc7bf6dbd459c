import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/media.js';

const schema = {
  key: 'int32',
  caption: 'text',
  image: { htype: 'image' },
  vec: { htype: 'embedding', dim: 2 },
} as const;

describe.each(BACKENDS)('Dataset dropColumn and renameColumn (%s)', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend.stop();
  });

  it('drop and rename are one commit each; reads, time travel and typed errors', async () => {
    const uri = backend.uri();
    const ds = await Dataset.create(uri, { schema, ...backend.options });
    const images = await Promise.all([0, 1, 2].map((seed) => makeJpeg({ width: 8, height: 8, seed })));
    await ds.append(images.map((image, i) => ({ key: i, caption: `c${i}`, image, vec: [i, 1] })));
    await ds.commit('rows');
    const v1 = ds.version;
    const imageBytes = (await ds.values('image')).map((c) => c as { bytes(): Promise<Uint8Array> });
    const original = await Promise.all(imageBytes.map((c) => c.bytes()));

    expect(await ds.dropColumn('vec')).toBe(v1 + 1);
    expect(ds.columns).toEqual(['key', 'caption', 'image']);
    await expect(ds.values('vec')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await ds.values('key')).toEqual([0, 1, 2]);
    const old = await Dataset.open(uri, { ...backend.options, version: v1 });
    expect(await old.values('vec')).toEqual([
      new Float32Array([0, 1]),
      new Float32Array([1, 1]),
      new Float32Array([2, 1]),
    ]);
    await old.close();

    expect(await ds.renameColumn('image', 'photo')).toBe(v1 + 2);
    expect(ds.columns).toEqual(['key', 'caption', 'photo']);
    const renamed = await Promise.all(
      (await ds.values('photo')).map((c) => (c as { bytes(): Promise<Uint8Array> }).bytes()),
    );
    expect(renamed).toEqual(original);
    await expect(ds.values('image')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // the old name is free for a new column
    ds.addColumn('image', 'text');
    await ds.commit('new image column');
    expect(await ds.values('image')).toEqual([null, null, null]);

    const reopened = await Dataset.open(uri, backend.options);
    expect(reopened.columns).toEqual(['key', 'caption', 'photo', 'image']);
    await expect(reopened.renameColumn('nope', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(reopened.dropColumn('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(reopened.renameColumn('key', 'caption')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(reopened.renameColumn('key', 'constructor')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await reopened.append([{ key: 9 }]);
    await expect(reopened.dropColumn('caption')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await reopened.rollback();
    expect(reopened.version).toBe(v1 + 3);
    await reopened.close();
    await ds.close();
  });
});
