import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildMultiIoModel,
  buildTextEncoder,
  textEncoderReference,
  writeModel,
  type TextEncoderWeights,
} from '../../datasets/models/onnx-builder.js';
import { Dataset } from '../../src/dataset/dataset.js';
import { search } from '../../src/dataset/search/dataset-search.js';
import { embed } from '../../src/embed/job.js';
import '../../src/embed/query-embedder.js'; // installs the embedder of text queries, as the package entry does
import type { EmbeddingLineage } from '../../src/embed/lineage.js';
import { maxRelDiff } from './fixtures/data.js';

const mem = () => `memory://embed-text-${randomBytes(6).toString('hex')}`;

/** A toy word tokenizer: [CLS]=1, words by a fixed vocabulary (unknown → 2). */
const VOCAB = [
  '[PAD]',
  '[CLS]',
  '[UNK]',
  ...'a red blue green cat dog bird sits runs flies on the mat tree sky over under big small quickly'.split(' '),
];
const ID = new Map(VOCAB.map((w, i) => [w, i]));
const wordIds = (text: string): number[] => [
  1,
  ...text
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => ID.get(w) ?? 2),
];
const tokenizer = (text: string): number[] => {
  if (text.includes('\u0000')) throw new Error('NUL in text');
  return wordIds(text);
};

const TEXTS = [
  'a red cat sits on the mat',
  'a dog runs',
  'the bird flies over the tree',
  'big blue sky',
  null,
  'a small green bird',
  'the cat',
  'a dog sits under the big tree quickly',
  'bad\u0000text',
  'sky',
  'red red red red red',
  'a cat and a dog',
  'green tree',
  'the small dog runs on the mat',
  'a bird',
];

let dir: string;
let tokensModel: { path: string; weights: TextEncoderWeights };
let pooledModel: { path: string; weights: TextEncoderWeights };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-text-'));
  for (const [name, output] of [
    ['tokens', 'tokens'],
    ['pooled', 'pooled'],
  ] as const) {
    const m = buildTextEncoder({ seed: 7, vocab: VOCAB.length, output, tokenTypes: output === 'tokens' });
    const path = join(dir, `${name}.onnx`);
    await writeModel(path, m.bytes);
    if (name === 'tokens') tokensModel = { path, weights: m.weights };
    else pooledModel = { path, weights: m.weights };
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function textDataset(texts: readonly (string | null)[] = TEXTS): Promise<Dataset> {
  const ds = await Dataset.create(mem(), { schema: { caption: 'text', id: 'int32' } });
  await ds.append(texts.map((caption, id) => ({ caption, id })));
  await ds.commit('captions');
  return ds;
}

const vectors = async (ds: Dataset, column = 'embedding') => (await ds.values(column)) as (Float32Array | null)[];

describe('embed() on a text column with a user tokenizer', () => {
  it.each([
    ['per-token output, pooled here over the mask', 'tokens'],
    ['pooled inside the model', 'pooled'],
  ] as const)('%s: every row equals the JS reference, whatever the batch', async (_name, which) => {
    const model = which === 'tokens' ? tokensModel : pooledModel;
    const runs: (Float32Array | null)[][] = [];
    for (const batchSize of [1, 4, 32]) {
      await using ds = await textDataset();
      const s = await embed(ds, {
        column: 'caption',
        model: model.path,
        tokenizer,
        tokenizerName: 'toy-words',
        batchSize,
        commitEveryBatches: 2,
      });
      expect(s).toMatchObject({ processed: TEXTS.length, embedded: TEXTS.length - 2, empty: 1, dim: 8 });
      expect(s.failures).toEqual([{ row: 8, reason: expect.stringContaining('NUL in text') as unknown }]);
      runs.push(await vectors(ds));
    }
    for (const got of runs) {
      got.forEach((v, r) => {
        if (TEXTS[r] === null || r === 8) return expect(v, `row ${r}`).toBeNull();
        expect(
          maxRelDiff(
            v!,
            textEncoderReference(
              model.weights,
              wordIds(TEXTS[r]),
              wordIds(TEXTS[r]).map(() => 0),
            ),
          ),
          `row ${r}`,
        ).toBeLessThan(1e-4);
      });
    }
  });

  it('records the tokenizer in the lineage; same settings are a no-op, another tokenizer is CONFLICT', async () => {
    await using ds = await textDataset();
    const s = await embed(ds, {
      column: 'caption',
      model: tokensModel.path,
      tokenizer,
      tokenizerName: 'toy-words',
      maxTokens: 6,
      normalize: true,
    });
    const l = ds.columnMeta('embedding').lineage as EmbeddingLineage;
    expect(l).toMatchObject({
      sourceColumn: 'caption',
      normalize: true,
      dim: 8,
      model: { inputName: 'input_ids,attention_mask,token_type_ids', outputName: 'last_hidden_state' },
      preprocess: { kind: 'text', tokenizer: 'toy-words', maxTokens: 6, padTokenId: 0, pooling: 'mean' },
    });
    // maxTokens cuts: row 7 has 10 tokens, only the first 6 count
    const ids = wordIds(TEXTS[7]!).slice(0, 6);
    const want = textEncoderReference(
      tokensModel.weights,
      ids,
      ids.map(() => 0),
    );
    const norm = Math.hypot(...want);
    expect(
      maxRelDiff(
        (await vectors(ds))[7]!,
        want.map((x) => x / norm),
      ),
    ).toBeLessThan(1e-4);
    expect(s.lineage).toEqual(l);
    await expect(
      embed(ds, {
        column: 'caption',
        model: tokensModel.path,
        tokenizer,
        tokenizerName: 'toy-words',
        maxTokens: 6,
        normalize: true,
      }),
    ).resolves.toMatchObject({ noop: true });
    await expect(
      embed(ds, {
        column: 'caption',
        model: tokensModel.path,
        tokenizer,
        tokenizerName: 'other-words',
        maxTokens: 6,
        normalize: true,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', details: { differences: ['preprocess'] } });
  });

  it("'first' pooling takes the [CLS] position; a tokenizer may return every input by name", async () => {
    await using ds = await textDataset(TEXTS.slice(0, 4));
    await embed(ds, { column: 'caption', model: tokensModel.path, tokenizer, tokenPooling: 'first' });
    const got = await vectors(ds);
    got.forEach((v, r) =>
      expect(maxRelDiff(v!, textEncoderReference(tokensModel.weights, wordIds(TEXTS[r]!), [0], 'first'))).toBeLessThan(
        1e-4,
      ),
    );

    const named = (text: string) => {
      const ids = wordIds(text);
      return { input_ids: ids, attention_mask: ids.map(() => 1), token_type_ids: ids.map((_, i) => (i >= 2 ? 1 : 0)) };
    };
    await embed(ds, {
      column: 'caption',
      model: tokensModel.path,
      tokenizer: named,
      tokenizerName: 'named',
      output: 'typed',
    });
    (await vectors(ds, 'typed')).forEach((v, r) => {
      const ids = wordIds(TEXTS[r]!);
      expect(
        maxRelDiff(
          v!,
          textEncoderReference(
            tokensModel.weights,
            ids,
            ids.map((_, i) => (i >= 2 ? 1 : 0)),
          ),
        ),
      ).toBeLessThan(1e-4);
    });
  });

  it('a model with a fixed batch and sequence length: runs split and padded, maxTokens from the model', async () => {
    const fixed = buildTextEncoder({ seed: 7, vocab: VOCAB.length, output: 'pooled', batch: 4, tokens: 6 });
    const path = join(dir, 'fixed.onnx');
    await writeModel(path, fixed.bytes);
    await using ds = await textDataset();
    const s = await embed(ds, { column: 'caption', model: path, tokenizer, batchSize: 5 });
    expect(s.lineage.preprocess).toMatchObject({ kind: 'text', maxTokens: 6 });
    (await vectors(ds)).forEach((v, r) => {
      if (TEXTS[r] === null || r === 8) return expect(v).toBeNull();
      const ids = wordIds(TEXTS[r]).slice(0, 6);
      expect(
        maxRelDiff(
          v!,
          textEncoderReference(
            fixed.weights,
            ids,
            ids.map(() => 0),
          ),
        ),
        `row ${r}`,
      ).toBeLessThan(1e-4);
    });
  });

  it('abort mid-job keeps committed batches; a re-run resumes and equals an uninterrupted run', async () => {
    await using whole = await textDataset();
    await embed(whole, { column: 'caption', model: pooledModel.path, tokenizer, batchSize: 2 });
    await using ds = await textDataset();
    const ac = new AbortController();
    await expect(
      embed(ds, {
        column: 'caption',
        model: pooledModel.path,
        tokenizer,
        batchSize: 2,
        commitEveryBatches: 1,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.done >= 6) ac.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    const partial = await (await Dataset.open(ds.uri)).storedLength('embedding');
    expect(partial).toBeGreaterThanOrEqual(6);
    expect(partial).toBeLessThan(TEXTS.length);
    await expect(
      embed(ds, { column: 'caption', model: pooledModel.path, tokenizer, batchSize: 2 }),
    ).resolves.toMatchObject({ resumedFrom: partial, processed: TEXTS.length - partial });
    expect(await vectors(ds)).toEqual(await vectors(whole));
  });

  it('searches by text with the same tokenizer; clear errors for a missing tokenizer, an image model, strict mode', async () => {
    await using ds = await textDataset();
    await embed(ds, { column: 'caption', model: tokensModel.path, tokenizer, tokenizerName: 'toy-words' });
    const hits = await search(ds, 'embedding', { text: 'the bird flies over the tree' }, { k: 3, tokenizer });
    expect(hits[0]).toMatchObject({ row: 2 });
    expect(hits[0].score).toBeCloseTo(1, 5);
    await expect(search(ds, 'embedding', { text: 'a cat' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'tokenizer' },
    });
    await expect(search(ds, 'embedding', { image: new Uint8Array([0xff, 0xd8, 0xff]) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'query' },
    });

    await using fresh = await textDataset();
    await expect(embed(fresh, { column: 'caption', model: tokensModel.path })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'tokenizer' },
    });
    const imageModel = join(dir, 'image.onnx');
    await writeModel(imageModel, buildMultiIoModel({ inputs: 1, outputs: 1 }));
    await expect(embed(fresh, { column: 'caption', model: imageModel, tokenizer })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      details: { field: 'model' },
    });
    await expect(
      embed(fresh, { column: 'caption', model: tokensModel.path, tokenizer, strict: true }),
    ).rejects.toMatchObject({ code: 'CORRUPT', details: { row: 8, column: 'caption' } });
    await expect(
      embed(fresh, {
        column: 'caption',
        model: tokensModel.path,
        tokenizer: (t: string) => ({ input_ids: wordIds(t) }),
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(fresh.hasPendingChanges).toBe(false);
    const s = await embed(fresh, {
      column: 'caption',
      model: tokensModel.path,
      tokenizer: (t: string) => (t === 'sky' ? [] : tokenizer(t)),
    });
    expect(s.failures).toEqual([
      { row: 8, reason: expect.stringContaining('NUL') as unknown },
      { row: 9, reason: 'the tokenizer returned no tokens' },
    ]);
    expect((await vectors(fresh))[9]).toBeNull();
  });
});
