/**
 * Embed a text column with any ONNX text model whose inputs are token ids: you bring the tokenizer
 * (a function from text to ids); Strata pads each batch, derives the attention mask, pools per-token
 * outputs over it, records the tokenizer's name in the lineage, and searches by text with it.
 * The model here is a small word encoder built in-process (nothing downloaded).
 *
 *   npx tsx examples/09-embed-text.ts
 */
import { join } from 'node:path';
import { buildTextEncoder, writeModel } from '../datasets/models/onnx-builder.js';
import { Dataset, embed, type Tokenizer } from '../src/index.js';
import { check, run, workspace } from './_shared.js';

const WORDS =
  '[pad] [cls] [unk] a the red green blue small big circle square triangle on left right of image with shape'.split(
    ' ',
  );
const ID = new Map(WORDS.map((w, i) => [w, i]));
/** A word-level tokenizer: [cls] first, unknown words → [unk]. Use your model's own tokenizer here. */
const tokenizer: Tokenizer = (text) => [
  1,
  ...text
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean)
    .map((w) => ID.get(w) ?? 2),
];

const CAPTIONS = [
  'a red circle on the left',
  'a big blue square',
  'a small green triangle',
  'a red square on the right',
  'a blue circle',
  'a big red triangle on the left',
  'a green circle with a blue square',
  null,
  'the image of a small red circle',
];

run('09-embed-text', async () => {
  const ws = await workspace('09-embed-text');
  try {
    await using ds = await Dataset.create(join(ws.dir, 'captions.strata'), { schema: { caption: 'text' } });
    await ds.append(CAPTIONS.map((caption) => ({ caption })));
    await ds.commit('captions');

    const model = join(ws.dir, 'word-encoder.onnx');
    await writeModel(model, buildTextEncoder({ seed: 3, vocab: WORDS.length, width: 64, dim: 64 }).bytes);
    const s = await embed(ds, {
      column: 'caption',
      model,
      tokenizer,
      tokenizerName: 'example-words-v1',
      normalize: true,
    });
    console.log(
      `embedded ${s.embedded} captions (${s.empty} empty) into "${s.column}" (dim ${s.dim}); lineage preprocess ${JSON.stringify(s.lineage.preprocess)}`,
    );
    check(s.embedded === CAPTIONS.length - 1 && s.empty === 1, 'every caption embedded, the null one left null');

    const hits = await ds.search('embedding', { text: 'red circle' }, { k: 3, tokenizer });
    const rows = await ds.take(hits.map((h) => h.row)).toArray();
    console.log('\nnearest captions to "red circle":');
    hits.forEach((h, i) => console.log(`  row ${h.row}  ${h.score.toFixed(3)}  ${String(rows[i].caption)}`));
    check(
      hits.slice(0, 2).every((h) => /red/.test(String(CAPTIONS[h.row])) && /circle/.test(String(CAPTIONS[h.row]))),
      'the captions with both words come first',
    );

    const again = await embed(ds, {
      column: 'caption',
      model,
      tokenizer,
      tokenizerName: 'example-words-v1',
      normalize: true,
    });
    check(again.noop, 'a second run with the same model and tokenizer is a no-op');
  } finally {
    await ws.cleanup();
  }
});
