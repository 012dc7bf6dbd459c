/**
 * A real torchvision model exported by datasets/models/export_torchvision.py, run by embed() with
 * the preprocess docs/MODELS.md gives for torchvision's eval transforms, against PyTorch on the same
 * files (PIL loader, Resize(256), CenterCrop(224), ToTensor, Normalize). Needs a python3 with torch,
 * torchvision and Pillow ($STRATA_TORCH_PYTHON, else /usr/bin/python3, else python3 on PATH); skipped
 * without one only outside CI.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import { makeJpeg, makePng } from '../helpers/media.js';

const SCRIPT = join(import.meta.dirname, '../../datasets/models/export_torchvision.py');

function findTorchPython(): string | undefined {
  const candidates = [process.env.STRATA_TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  return candidates.find(
    (py) => spawnSync(py, ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' }).status === 0,
  );
}

const PYTHON = findTorchPython();
const SKIP = PYTHON === undefined && !process.env.CI;

function python(args: readonly string[]): string {
  const r = spawnSync(PYTHON!, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`export_torchvision.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Subtracts the mean vector over all rows (cosine of what tells the images apart). */
function centre(rows: readonly ArrayLike<number>[]): Float64Array[] {
  const d = rows[0].length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let i = 0; i < d; i++) mean[i] += r[i] / rows.length;
  return rows.map((r) => Float64Array.from({ length: d }, (_, i) => r[i] - mean[i]));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-torchvision-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(SKIP)('a torchvision model exported to ONNX: embed() vs PyTorch', () => {
  it('mobilenet_v3_small on JPEG/PNG images (landscape, portrait, grey, RGBA, ICC-tagged): cosine >= 0.999 per image', async () => {
    expect(PYTHON, 'no python3 with torch, torchvision and Pillow (CI needs one)').toBeDefined();
    const model = join(dir, 'mobilenet_v3_small.onnx');
    const exported = JSON.parse(python(['image', '--arch', 'mobilenet_v3_small', '--seed', '0', '--out', model])) as {
      dim: number;
    };
    const fixtures = join(import.meta.dirname, '../media/fixtures');
    const files: [string, Uint8Array][] = [
      ['landscape.jpg', await makeJpeg({ width: 400, height: 300, seed: 1, quality: 90 })],
      ['portrait.jpg', await makeJpeg({ width: 240, height: 360, seed: 2, quality: 85 })],
      ['square.png', await makePng({ width: 256, height: 256, seed: 3 })],
      ['wide.png', await makePng({ width: 512, height: 200, seed: 4 })],
      ['small.jpg', await makeJpeg({ width: 120, height: 90, seed: 5, quality: 95 })],
      ['grey.png', await makePng({ width: 300, height: 260, seed: 6, channels: 1 })],
      ['rgba.png', await makePng({ width: 300, height: 300, seed: 7, channels: 4 })],
      ['p3.jpg', await readFile(join(fixtures, 'p3.jpg'))],
      ['p3.png', await readFile(join(fixtures, 'p3.png'))],
    ];
    const paths = files.map(([name]) => join(dir, name));
    await Promise.all(files.map(([, bytes], i) => writeFile(paths[i], bytes)));
    const want = (
      JSON.parse(python(['reference', '--model', `${model}.pt`, '--images', ...paths])) as {
        embeddings: number[][];
      }
    ).embeddings;

    await using ds = await Dataset.create(`memory://torchvision-${randomBytes(6).toString('hex')}`, {
      schema: { image: 'image' },
    });
    await ds.append(files.map(([, image]) => ({ image })));
    await ds.commit();
    const s = await embed(ds, {
      column: 'image',
      model,
      preprocess: { size: 224, fit: 'center-crop', cropFraction: 224 / 256 }, // + the default RGB, NCHW, ImageNet mean/std
    });
    expect(s).toMatchObject({ embedded: files.length, dim: exported.dim });
    const got = (await ds.values('embedding')) as Float32Array[];
    const plain = got.map((v, i) => cosine(v, want[i]));
    const [cg, cw] = [centre(got), centre(want)];
    const centred = got.map((_, i) => cosine(cg[i], cw[i]));
    console.log(
      `torchvision parity (${files.length} images, ${exported.dim}-d): ${files.map((f, i) => `${f[0]} ${plain[i].toFixed(5)}/${centred[i].toFixed(4)}`).join(', ')}`,
    );
    plain.forEach((c, i) => expect(c, `${files[i][0]} cosine`).toBeGreaterThanOrEqual(0.999));
    centred.forEach((c, i) => expect(c, `${files[i][0]} centred cosine`).toBeGreaterThanOrEqual(0.98));
    // the images are told apart: the bar is not met by a model that maps everything alike
    expect(cosine(cw[0], cw[1])).toBeLessThan(0.9);
  }, 180_000);
});
