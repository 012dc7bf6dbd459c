import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../../src/dataset/dataset.js';
import { parseExpression } from '../../../src/dataset/expr/parse.js';

let ds: Dataset;

beforeAll(async () => {
  ds = await Dataset.create(`memory://expr-errors-${randomBytes(6).toString('hex')}`, {
    schema: { label: 'text', score: 'float32', emb: { htype: 'embedding', dim: 2 }, ok: 'bool' },
  });
  await ds.extend({
    label: ['cat', "o'neil", null],
    score: [0.9, 0.1, 0.7],
    emb: [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    ok: [true, null, false],
  });
  await ds.commit('rows');
});

afterAll(async () => {
  await ds?.close();
});

describe('filter expression errors', () => {
  it.each([
    ["label = 'cat", 8],
    ['score >', 7],
    ['score > 0.5 AND', 15],
    ['(score > 0.5', 12],
    ['score > 0.5)', 11],
    ['score # 1', 6],
    ['', 0],
    ['score IN 1, 2', 9],
    ['score BETWEEN 1 OR 2', 16],
    ['label IS NOT 3', 13],
  ])('a malformed expression %j is INVALID_ARGUMENT naming position %i', async (text, pos) => {
    expect(() => parseExpression(text)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(thrown(() => ds.filter(text))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: `expression@${pos}` },
    });
  });

  it.each([
    ['colour = 1', 'colour', 0],
    ['emb > 1', 'emb', 0],
    ['score > 0.5 AND label > 1', undefined, 24],
    ["score = 'high'", undefined, 8],
    ['score + label > 1', undefined, 8],
    ['score', undefined, 0],
    ['label LIKE 5', undefined, 11],
    ['NOT score', undefined, 4],
  ])('an ill-typed expression %j is INVALID_ARGUMENT naming the column or position', async (text, column, pos) => {
    expect(thrown(() => ds.filter(text))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: `expression@${pos}`, ...(column ? { column } : {}) },
    });
  });

  it("reads quoted strings, quoted column names, keywords in any case, and '' escapes", async () => {
    expect(await ds.filter("label = 'o''neil'").values('score')).toEqual([Math.fround(0.1)]);
    expect(await ds.filter('"score" > 0.5 and not ok').values('label')).toEqual([null]);
    expect(await ds.filter("ok IS NULL OR label like 'c%'").count()).toBe(2);
    expect(ds.filter('score > 0.5').columns).toEqual(ds.columns);
  });

  it('checks columns against the view: a column not selected is unknown', async () => {
    expect(thrown(() => ds.select(['label']).filter('score > 0.5'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { column: 'score' },
    });
  });
});

/** The error `fn` throws (filter expressions are checked when the view is built, synchronously). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
