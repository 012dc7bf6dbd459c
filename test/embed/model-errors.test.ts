import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  buildMobileNetV2Like,
  buildMultiIoModel,
  buildTinyConvNet,
  writeModel,
} from '../../datasets/models/onnx-builder.js';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import { EmbeddingModel } from '../../src/embed/model.js';
import { damagedJpeg, sampleImages } from './fixtures/data.js';
import type { StrataError } from '../../src/errors.js';
import { resizeForModel, resolvePreprocess, toTensor, validatePreprocess } from '../../src/embed/preprocess.js';

let dir: string;
/** The error `f` throws (fails the test when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embed-err-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('EmbeddingModel.load', () => {
  it('loads from a path, bytes or a session; sha256 is of the model bytes', async () => {
    const { bytes } = buildTinyConvNet({ seed: 1 });
    const sha = createHash('sha256').update(bytes).digest('hex');
    const path = join(dir, 'tiny.onnx');
    await writeModel(path, bytes);
    const a = await EmbeddingModel.load(path);
    const b = await EmbeddingModel.load(bytes, { intraOpThreads: 1, spinning: false });
    const session = await ort.InferenceSession.create(bytes);
    const c = await EmbeddingModel.load(session, { sha256: sha });
    for (const m of [a, b, c]) {
      expect(m.sha256).toBe(sha);
      expect(m.inputName).toBe('input');
      expect(m.outputName).toBe('embedding');
      expect(m.inputShape.dims).toEqual([-1, 3, 32, 32]);
      expect(m.inputShape.symbols[0]).toBe('N');
      expect(m.outputDim).toBe(16);
    }
    const x = new Float32Array(2 * 3 * 32 * 32).fill(0.5);
    const [ya, yc] = [await a.run(x, 2), await c.run(x, 2)];
    expect(Array.from(ya)).toEqual(Array.from(yc));
    await a.close();
    await a.close(); // idempotent
    await expect(a.run(x, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await c.close();
    expect((await session.run({ input: new ort.Tensor('float32', x, [2, 3, 32, 32]) })).embedding.dims).toEqual([
      2, 16,
    ]);
    await session.release();
    await b.close();
  });

  it('several inputs → INVALID_ARGUMENT listing them; inputName must exist', async () => {
    const bytes = buildMultiIoModel({ inputs: 2, outputs: 1 });
    const err = await EmbeddingModel.load(bytes).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'inputName', inputs: ['image', 'mask'] } });
    expect(String((err as Error).message)).toContain('image');
    expect(String((err as Error).message)).toContain('mask');
    await expect(EmbeddingModel.load(bytes, { inputName: 'pixels' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { inputs: ['image', 'mask'] },
    });
  });

  it('a second required input is refused at load even when inputName picks the image, naming the inputs', async () => {
    const bytes = buildMultiIoModel({ inputs: 2, outputs: 1 });
    const err = await EmbeddingModel.load(bytes, { inputName: 'image' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'inputName', inputs: ['image', 'mask'], extraInputs: ['mask'] },
    });
    expect(String((err as Error).message)).toContain("'mask'");
    const session = await ort.InferenceSession.create(bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await expect(EmbeddingModel.load(session, { sha256, inputName: 'image' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { extraInputs: ['mask'] },
    });
    await session.release();
  });

  it('embed() refuses such a model before anything is written, not at run time', async () => {
    const path = join(dir, 'two-inputs.onnx');
    await writeModel(path, buildMultiIoModel({ inputs: 2, outputs: 1 }));
    await using ds = await Dataset.create(`memory://two-inputs-${Date.now()}`, { schema: { image: 'image' } });
    await ds.append((await sampleImages(3)).map((image) => ({ image })));
    await ds.commit();
    const v = ds.version;
    for (const inputName of [undefined, 'image']) {
      await expect(
        embed(ds, { column: 'image', model: path, inputName, preprocess: { size: 8 } }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { inputs: ['image', 'mask'] } });
    }
    expect(ds.version).toBe(v);
    expect(ds.columns).not.toContain('embedding');
  });

  it('several outputs → INVALID_ARGUMENT listing them; outputName picks one', async () => {
    const bytes = buildMultiIoModel({ inputs: 1, outputs: 2 });
    await expect(EmbeddingModel.load(bytes)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'outputName', outputs: ['embedding', 'logits'] },
    });
    await using m = await EmbeddingModel.load(bytes, { outputName: 'logits' });
    const x = new Float32Array(3 * 64);
    for (let c = 0; c < 3; c++) x.fill(c === 1 ? -2 : c + 1, c * 64, (c + 1) * 64);
    expect(Array.from(await m.run(x, 1))).toEqual([1, 0, 3]); // relu of the channel means
  });

  it('missing file → NOT_FOUND, garbage → CORRUPT', async () => {
    await expect(EmbeddingModel.load(join(dir, 'nope.onnx'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const junk = join(dir, 'junk.onnx');
    await writeFile(junk, 'not a model');
    await expect(EmbeddingModel.load(junk)).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('run checks the batch length and wraps runtime shape errors', async () => {
    await using m = await EmbeddingModel.load(buildTinyConvNet({ seed: 2 }).bytes);
    await expect(m.run(new Float32Array(10), 1)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'batch' },
    });
    await expect(m.run(new Float32Array(3 * 16 * 16), 1, [3, 16, 16])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await using dyn = await EmbeddingModel.load(buildTinyConvNet({ seed: 2, dynamicSpatial: true }).bytes);
    expect(dyn.inputShape.dims).toEqual([-1, 3, -1, -1]);
    expect(dyn.outputDim).toBe(16);
    await expect(dyn.run(new Float32Array(3 * 16 * 16), 1)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'itemDims' },
    });
    expect((await dyn.run(new Float32Array(3 * 16 * 16), 1, [3, 16, 16])).length).toBe(16);
  });
});

describe('validatePreprocess against the model input', () => {
  const nchw3 = [-1, 3, 224, 224];
  it('accepts a match and returns the resolved preprocess', () => {
    const p = validatePreprocess({}, nchw3);
    expect(p).toMatchObject({
      size: [224, 224],
      fit: 'cover',
      layout: 'NCHW',
      channels: 'RGB',
      scale: 1 / 255,
      cropFraction: 0.875,
    });
    expect(validatePreprocess({ size: [100, 60] }, [-1, 3, -1, -1]).size).toEqual([100, 60]);
  });
  it('size vs model H×W', () => {
    const err = (() => {
      try {
        validatePreprocess({ size: 256 }, nchw3);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'preprocess.size' } });
    expect(String((err as Error).message)).toContain('224');
    expect(() => validatePreprocess({ size: [224, 200] }, [-1, 3, 224, -1])).not.toThrow();
    expect(() => validatePreprocess({ size: [200, 224] }, [-1, 3, 224, -1])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
  it('channels vs model C', () => {
    expect(thrown(() => validatePreprocess({ channels: 'gray' }, nchw3))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'preprocess.channels' },
    });
    expect(thrown(() => validatePreprocess({ channels: 'RGB', size: 32 }, [-1, 1, 32, 32]))).toMatchObject({
      details: { field: 'preprocess.channels', hint: "use channels: 'gray'" },
    });
    expect(() => validatePreprocess({}, [-1, 4, 224, 224])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
  it('layout NCHW vs an NHWC model (and back), rank', () => {
    expect(thrown(() => validatePreprocess({ size: 32 }, [-1, 32, 32, 3]))).toMatchObject({
      details: { field: 'preprocess.layout', hint: "set layout: 'NHWC'" },
    });
    expect(thrown(() => validatePreprocess({ size: 32, layout: 'NHWC' }, [-1, 3, 32, 32]))).toMatchObject({
      details: { field: 'preprocess.layout' },
    });
    expect(() => validatePreprocess({}, [-1, 3, 224])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
  it('bad fields name themselves', () => {
    const field = (o: object) => {
      try {
        resolvePreprocess(o);
      } catch (e) {
        return (e as { details: { field: string } }).details.field;
      }
    };
    expect(field({ mean: [1, 2] })).toBe('preprocess.mean');
    expect(field({ std: [1, 0, 1] })).toBe('preprocess.std');
    expect(field({ fit: 'crop' })).toBe('preprocess.fit');
    expect(field({ layout: 'CHW' })).toBe('preprocess.layout');
    expect(field({ channels: 'RGBA' })).toBe('preprocess.channels');
    expect(field({ size: [0, 3] })).toBe('preprocess.size');
    expect(field({ scale: 0 })).toBe('preprocess.scale');
  });
  it('decode failures are CORRUPT; wrong image sizes are INVALID_ARGUMENT', async () => {
    await expect(resizeForModel(new Uint8Array([1, 2, 3, 4]), {})).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(() => toTensor([new Uint8Array(10)], { size: 4 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
  it('a damaged JPEG decoded among many others is CORRUPT with a reason that names the format (sharp drains warnings process-wide)', async () => {
    const good = await sampleImages(12, 5);
    const bad = damagedJpeg(good[0]);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([bad, ...good, bad].map((b) => resizeForModel(b, { size: 16 })));
      for (const i of [0, results.length - 1]) {
        const r = results[i];
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as StrataError;
        expect(err.code).toBe('CORRUPT');
        expect(err.message).toMatch(/JPEG image \(\d+×\d+\)/);
        expect(err.message).toMatch(/corrupt|premature|truncat/i);
      }
      expect(results.slice(1, -1).every((x) => x.status === 'fulfilled')).toBe(true);
    }
  });
  it('resizes raw frames (e.g. decoded video) too', async () => {
    const frame = { data: new Uint8Array(20 * 10 * 3).fill(200), width: 20, height: 10, channels: 3 as const };
    const px = await resizeForModel(frame, { size: 8, fit: 'center-crop' });
    expect(px.length).toBe(8 * 8 * 3);
    expect(px.every((v) => v === 200)).toBe(true);
  });
});

describe('MobileNetV2-like benchmark model', () => {
  it('has ~3M parameters, a [N, 512] output, finite activations', async () => {
    const { bytes, parameters } = buildMobileNetV2Like({ seed: 1 });
    expect(parameters).toBeGreaterThan(2.5e6);
    expect(parameters).toBeLessThan(3.5e6);
    await using m = await EmbeddingModel.load(bytes);
    expect(m.inputShape.dims).toEqual([-1, 3, 224, 224]);
    expect(m.outputDim).toBe(512);
    const x = new Float32Array(2 * 3 * 224 * 224);
    for (let k = 0; k < x.length; k++) x[k] = Math.sin(k) * 2;
    const y = await m.run(x, 2);
    expect(y.length).toBe(1024);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(Math.max(...y.map(Math.abs))).toBeGreaterThan(1e-3);
  });
});
