import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTinyConvNet,
  tinyConvNetReference,
  writeModel,
  type TinyConvNetOptions,
} from '../../datasets/models/onnx-builder.js';
import { EmbeddingModel } from '../../src/embed/model.js';
import {
  itemDims,
  resizeForModel,
  toTensor,
  validatePreprocess,
  type PreprocessOptions,
} from '../../src/embed/preprocess.js';
import { sampleImages } from './images.js';

/** Independent NCHW conversion: explicit per-pixel formula, float64. */
function referenceTensor(
  pixels: Uint8Array[],
  size: readonly [number, number],
  channels: 'RGB' | 'BGR' | 'gray',
  mean: number[],
  std: number[],
  scale: number,
): Float64Array {
  const [h, w] = size;
  const C = channels === 'gray' ? 1 : 3;
  const out = new Float64Array(pixels.length * C * h * w);
  pixels.forEach((px, n) => {
    const srcC = px.length / (h * w);
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const p = y * w + x;
          let v: number;
          if (srcC === 1) v = px[p];
          else if (C === 1) v = 0.299 * px[p * 3] + 0.587 * px[p * 3 + 1] + 0.114 * px[p * 3 + 2];
          else v = px[p * 3 + (channels === 'BGR' ? 2 - c : c)];
          out[((n * C + c) * h + y) * w + x] = (v * scale - mean[c]) / std[c];
        }
      }
    }
  });
  return out;
}

const IMNET_MEAN = [0.485, 0.456, 0.406];
const IMNET_STD = [0.229, 0.224, 0.225];

interface Case {
  readonly name: string;
  readonly model: Omit<TinyConvNetOptions, 'seed'>;
  readonly pre: PreprocessOptions;
  /** What the reference uses (stated independently of the library defaults). */
  readonly ref: {
    size: [number, number];
    channels: 'RGB' | 'BGR' | 'gray';
    mean: number[];
    std: number[];
    scale: number;
  };
}

const rgbDefaults = { channels: 'RGB' as const, mean: IMNET_MEAN, std: IMNET_STD, scale: 1 / 255 };
const CASES: Case[] = [
  {
    name: 'defaults (cover, NCHW, RGB, ImageNet, 1/255)',
    model: {},
    pre: { size: 32 },
    ref: { size: [32, 32], ...rgbDefaults },
  },
  { name: 'fit contain', model: {}, pre: { size: 32, fit: 'contain' }, ref: { size: [32, 32], ...rgbDefaults } },
  { name: 'fit fill', model: {}, pre: { size: 32, fit: 'fill' }, ref: { size: [32, 32], ...rgbDefaults } },
  {
    name: 'fit center-crop',
    model: {},
    pre: { size: 32, fit: 'center-crop' },
    ref: { size: [32, 32], ...rgbDefaults },
  },
  {
    name: 'layout NHWC',
    model: { layout: 'NHWC' },
    pre: { size: 32, layout: 'NHWC' },
    ref: { size: [32, 32], ...rgbDefaults },
  },
  {
    name: 'channels BGR (default mean/std reversed)',
    model: {},
    pre: { size: 32, channels: 'BGR' },
    ref: {
      size: [32, 32],
      channels: 'BGR',
      mean: [...IMNET_MEAN].reverse(),
      std: [...IMNET_STD].reverse(),
      scale: 1 / 255,
    },
  },
  {
    name: 'channels gray (default 0.449/0.226)',
    model: { channels: 1 },
    pre: { size: 32, channels: 'gray' },
    ref: { size: [32, 32], channels: 'gray', mean: [0.449], std: [0.226], scale: 1 / 255 },
  },
  {
    name: 'gray NHWC contain',
    model: { channels: 1, layout: 'NHWC' },
    pre: { size: 32, channels: 'gray', layout: 'NHWC', fit: 'contain' },
    ref: { size: [32, 32], channels: 'gray', mean: [0.449], std: [0.226], scale: 1 / 255 },
  },
  {
    name: 'custom mean/std, scale 1',
    model: {},
    pre: { size: 32, scale: 1, mean: [127.5, 120, 110], std: [60, 65, 70] },
    ref: { size: [32, 32], channels: 'RGB', mean: [127.5, 120, 110], std: [60, 65, 70], scale: 1 },
  },
  {
    name: 'one-value mean/std broadcast, scale 2/255',
    model: {},
    pre: { size: 32, scale: 2 / 255, mean: [1], std: [1] },
    ref: { size: [32, 32], channels: 'RGB', mean: [1, 1, 1], std: [1, 1, 1], scale: 2 / 255 },
  },
  {
    name: 'non-square [24, 40], BGR NHWC fill, custom stats',
    model: { inputSize: [24, 40], layout: 'NHWC' },
    pre: { size: [24, 40], fit: 'fill', layout: 'NHWC', channels: 'BGR', mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25] },
    ref: { size: [24, 40], channels: 'BGR', mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25], scale: 1 / 255 },
  },
  {
    name: 'non-square center-crop [40, 24]',
    model: { inputSize: [40, 24] },
    pre: { size: [40, 24], fit: 'center-crop', cropFraction: 0.8 },
    ref: { size: [40, 24], ...rgbDefaults },
  },
  {
    name: 'head ReduceMean/Reshape/MatMul + Softmax, no BatchNorm',
    model: { head: 'reducemean-matmul', softmax: true, batchNorm: false },
    pre: { size: 32 },
    ref: { size: [32, 32], ...rgbDefaults },
  },
  {
    name: 'dynamic H/W model',
    model: { dynamicSpatial: true },
    pre: { size: [48, 36] },
    ref: { size: [48, 36], ...rgbDefaults },
  },
  {
    name: 'fixed batch 2 (run chunks and pads)',
    model: { fixedBatch: 2 },
    pre: { size: 32 },
    ref: { size: [32, 32], ...rgbDefaults },
  },
];

let images: Uint8Array[];
let dir: string;
beforeAll(async () => {
  images = await sampleImages();
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny conv net vs independent JS reference', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const { bytes, weights } = buildTinyConvNet({ seed: 100 + i, ...c.model });
    const path = join(dir, `tiny-${i}.onnx`);
    await writeModel(path, bytes);
    await using model = await EmbeddingModel.load(path, { intraOpThreads: 1 });
    const pre = validatePreprocess(c.pre, model.inputShape);
    const pixels = await Promise.all(images.map((b) => resizeForModel(b, pre)));
    const C = c.ref.channels === 'gray' ? 1 : 3;
    for (const p of pixels) expect(p.length).toBe(c.ref.size[0] * c.ref.size[1] * C);
    const batch = toTensor(pixels, pre);
    const got = await model.run(batch, pixels.length, itemDims(pre));
    const x = referenceTensor(pixels, c.ref.size, c.ref.channels, c.ref.mean, c.ref.std, c.ref.scale);
    const want = tinyConvNetReference(weights, x, c.ref.size);
    expect(got.length).toBe(want.length);
    expect(model.outputDim).toBe(weights.dim);
    let maxDiff = 0;
    for (let k = 0; k < want.length; k++)
      maxDiff = Math.max(maxDiff, Math.abs(got[k] - want[k]) / Math.max(1, Math.abs(want[k])));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('fit modes really differ, and contain pads with black', async () => {
    const wide = images[4]; // 70 × 20
    const px = {} as Record<string, Uint8Array>;
    for (const fit of ['cover', 'contain', 'fill', 'center-crop'] as const)
      px[fit] = await resizeForModel(wide, { size: 16, fit });
    const keys = Object.keys(px);
    for (let a = 0; a < keys.length; a++) {
      for (let b = a + 1; b < keys.length; b++)
        expect(Buffer.compare(px[keys[a]], px[keys[b]]), `${keys[a]} vs ${keys[b]}`).not.toBe(0);
    }
    expect(Math.max(...px.contain.subarray(0, 16 * 3))).toBe(0); // top row is padding
  });

  it('toTensor converts gray↔RGB and reuses an output buffer', () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, k) => (k * 23) % 256);
    const gray = Uint8Array.from([0, 100, 200, 255]);
    const out = new Float32Array(8);
    const g = toTensor([rgb, gray], { size: 2, channels: 'gray', mean: [0], std: [1], scale: 1 }, out);
    expect(g).toBe(out);
    const luma = (k: number) => 0.299 * rgb[k * 3] + 0.587 * rgb[k * 3 + 1] + 0.114 * rgb[k * 3 + 2];
    for (let k = 0; k < 4; k++) expect(g[k]).toBeCloseTo(luma(k), 4);
    expect(Array.from(g.subarray(4))).toEqual([0, 100, 200, 255]);
    const c = toTensor([gray], { size: 2, channels: 'RGB', mean: [0], std: [1], scale: 1, layout: 'NHWC' });
    expect(Array.from(c)).toEqual([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
  });

  it('is deterministic: same seed, same bytes', () => {
    const a = buildTinyConvNet({ seed: 5 }).bytes;
    const b = buildTinyConvNet({ seed: 5 }).bytes;
    const c = buildTinyConvNet({ seed: 6 }).bytes;
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
  });
});
