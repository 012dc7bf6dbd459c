/**
 * Vector search lives in the dataset layer; image and text queries are embedded by an injected
 * query embedder (src/embed installs one when loaded; this file never loads src/embed).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Dataset } from '../../src/dataset/dataset.js';
import type { QueryEmbedder } from '../../src/dataset/search/query-embedder.js';

const mem = () => `memory://query-embedder-${randomBytes(6).toString('hex')}`;

async function textVectors(): Promise<Dataset> {
  const ds = await Dataset.create(mem(), {
    schema: { caption: 'text', vec: { htype: 'embedding', dim: 2, meta: { lineage: { sourceColumn: 'caption' } } } },
  });
  await ds.append([
    { caption: 'east', vec: new Float32Array([1, 0]) },
    { caption: 'north', vec: new Float32Array([0, 1]) },
    { caption: 'north-east', vec: null },
  ]);
  await ds.commit('rows');
  return ds;
}

describe('ds.search without src/embed', () => {
  it('searches by vector and by a row with a vector', async () => {
    const ds = await textVectors();
    expect((await ds.search('vec', { vector: [0, 1] }, { k: 1 }))[0].row).toBe(1);
    expect((await ds.search('vec', { row: 0 }, { k: 1 }))[0].row).toBe(0);
  });

  it('a text query, or a row without a vector, is UNSUPPORTED until a query embedder is given', async () => {
    const ds = await textVectors();
    await expect(ds.search('vec', { text: 'north' })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      details: { column: 'vec' },
    });
    await expect(ds.search('vec', { row: 2 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('options.embedQuery embeds text queries and rows without a vector (from their lineage source column)', async () => {
    const ds = await textVectors();
    const seen: unknown[] = [];
    const embedQuery: QueryEmbedder = (input, column) => {
      seen.push({ input, column: column.name, source: (column.meta.lineage as { sourceColumn: string }).sourceColumn });
      const text = 'text' in input ? input.text : '';
      return Promise.resolve(new Float32Array(text.startsWith('north') ? [0.1, 1] : [1, 0.1]));
    };
    expect((await ds.search('vec', { text: 'north' }, { k: 1, embedQuery }))[0].row).toBe(1);
    expect((await ds.search('vec', { row: 2 }, { k: 1, embedQuery }))[0].row).toBe(1);
    expect(seen).toEqual([
      { input: { text: 'north' }, column: 'vec', source: 'caption' },
      { input: { text: 'north-east' }, column: 'vec', source: 'caption' },
    ]);
  });

  it('a column without lineage cannot embed a query (INVALID_ARGUMENT), embedder or not', async () => {
    const ds = await Dataset.create(mem(), { schema: { vec: { htype: 'embedding', dim: 2 } } });
    await ds.append([{ vec: new Float32Array([1, 0]) }]);
    await ds.commit();
    const embedQuery: QueryEmbedder = () => Promise.resolve(new Float32Array([1, 0]));
    await expect(ds.search('vec', { text: 'x' }, { embedQuery })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
