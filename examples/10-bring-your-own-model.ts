/**
 * Bring your own model: export a torchvision image model and a small text encoder to ONNX with
 * datasets/models/export_torchvision.py, then embed with the preprocess options that reproduce
 * torchvision's eval transforms (Resize(256), CenterCrop(224), ToTensor, Normalize), and a text
 * column with the model's own tokenizer. See docs/MODELS.md.
 *
 * Needs a python3 with torch, torchvision and pillow ($STRATA_TORCH_PYTHON, /usr/bin/python3 or
 * python3 on PATH): `pip install torch torchvision pillow`. Without one it says SKIPPED. Weights are
 * random (offline); pass --weights default to the script for torchvision's ImageNet weights.
 *
 *   npx tsx examples/10-bring-your-own-model.ts
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Dataset, embed, ingest, type Tokenizer } from '../src/index.js';
import { check, run, sampleData, workspace } from './_shared.js';

const SCRIPT = join(import.meta.dirname, '../datasets/models/export_torchvision.py');

function torchPython(): string | undefined {
  const candidates = [process.env.STRATA_TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  return candidates.find(
    (py) => spawnSync(py, ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' }).status === 0,
  );
}

function exportModel(python: string, args: string[]): void {
  const r = spawnSync(python, [SCRIPT, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`export_torchvision.py ${args.join(' ')} failed:\n${r.stderr}`);
  console.log(`exported: ${r.stdout.trim()}`);
}

run('10-bring-your-own-model', async () => {
  const python = torchPython();
  if (!python) {
    console.log(
      '10-bring-your-own-model: SKIPPED: no python3 with torch, torchvision and pillow (pip install torch torchvision pillow, or set STRATA_TORCH_PYTHON)',
    );
    return;
  }
  const ws = await workspace('10-bring-your-own-model');
  try {
    // 1. An image model: mobilenet_v3_small without its classifier → 576-d features.
    const imageModel = join(ws.dir, 'models', 'mobilenet_v3_small.onnx');
    exportModel(python, ['image', '--arch', 'mobilenet_v3_small', '--out', imageModel]);

    const sample = await sampleData(ws.dir, { videos: 0, events: 0 });
    const { uri } = await ingest(sample, join(ws.dir, 'shapes.strata'), { table: 'labels.csv' });
    await using ds = await Dataset.open(uri);
    const s = await embed(ds, {
      column: 'image',
      model: imageModel,
      // torchvision: Resize(256) + CenterCrop(224) + ToTensor + Normalize(ImageNet), PIL's pixels
      preprocess: { size: 224, fit: 'center-crop', cropFraction: 224 / 256 },
      normalize: true,
    });
    console.log(
      `embedded ${s.embedded} images → "${s.column}" (${s.dim}-d), preprocess ${JSON.stringify(s.lineage.preprocess)}`,
    );
    check(s.embedded === ds.length && s.dim === 576, 'every image embedded with 576-d features');
    const hits = await ds.search('embedding', { row: 0 }, { k: 3 });
    console.log(`nearest to row 0: ${hits.map((h) => `row ${h.row} (${h.score.toFixed(3)})`).join(', ')}`);
    check(hits[0].row === 0, 'a row is its own nearest neighbour');

    // 2. A text model with its tokenizer: the vocabulary file the export wrote, one token per line.
    const textModel = join(ws.dir, 'models', 'words.onnx');
    const vocabFile = join(ws.dir, 'models', 'vocab.txt');
    exportModel(python, ['text', '--vocab', vocabFile, '--out', textModel]);
    const vocab = (await readFile(vocabFile, 'utf8')).split('\n').filter(Boolean);
    const id = new Map(vocab.map((w, i) => [w, i]));
    const tokenizer: Tokenizer = (text) => [
      id.get('[cls]')!,
      ...text
        .toLowerCase()
        .split(/[^a-z]+/)
        .filter(Boolean)
        .map((w) => id.get(w) ?? id.get('[unk]')!),
    ];
    await using captions = await Dataset.create(join(ws.dir, 'captions.strata'), { schema: { caption: 'text' } });
    await captions.append(
      ['a red circle on the left', 'a big blue square', 'a small green triangle'].map((caption) => ({ caption })),
    );
    await captions.commit('captions');
    const t = await embed(captions, { column: 'caption', model: textModel, tokenizer, tokenizerName: 'words-v1' });
    console.log(`embedded ${t.embedded} captions (${t.dim}-d), mean-pooled over the attention mask`);
    const top = await captions.search('embedding', { text: 'a big blue square' }, { k: 1, tokenizer });
    check(t.embedded === 3 && top[0].row === 1, 'a caption is nearest to itself');
  } finally {
    await ws.cleanup();
  }
});
