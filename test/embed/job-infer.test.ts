import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputSlots, WorkerPool } from '../../src/embed/job-infer.js';
import { EmbeddingModel } from '../../src/embed/model.js';
import { tinyModel, type TinyModel } from './fixtures/data.js';

const DIMS = [3, 32, 32] as const;
const ITEM = DIMS[0] * DIMS[1] * DIMS[2];
let dir: string;
let tiny: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-job-infer-'));
  tiny = await tinyModel(dir, 'rgb', { seed: 3, inputSize: 32, dim: 16 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** n items of distinct deterministic input (each batch differs from every other). */
function batchData(seed: number, n: number): Float32Array {
  const x = new Float32Array(n * ITEM);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(seed * 7919 + i * 0.37) * 2;
  return x;
}

describe('inference workers', () => {
  it('batches queued on one worker through shared input slots each get their own result', async () => {
    const reference = await EmbeddingModel.load(tiny.bytes);
    const slots = new InputSlots(6, 4 * ITEM);
    const given = Buffer.from(tiny.bytes); // a Buffer: its slice() is a view, which must not be moved
    const pool = await WorkerPool.start(given, {
      inputName: reference.inputName,
      outputName: reference.outputName,
      uri: tiny.path,
      workers: 1,
      intraOpThreads: 1,
      slots,
    });
    try {
      // the worker got a copy of the model: the caller's bytes are untouched
      expect(given.byteLength).toBe(tiny.bytes.byteLength);
      expect(given.equals(Buffer.from(tiny.bytes))).toBe(true);
      // six runs posted at once: they wait in the worker's queue together, so a run whose input
      // were copied while an earlier one is still in the session would compute on the wrong batch
      const sizes = [4, 4, 4, 3, 3, 4];
      const inputs = sizes.map((n, k) => batchData(k + 1, n));
      const outs = await Promise.all(
        inputs.map((x, k) => {
          const view = slots.take(x.length);
          expect(slots.slotOf(view), `batch ${k} is on a slot`).toBeGreaterThanOrEqual(0);
          view.set(x);
          return pool.run(view, sizes[k], DIMS);
        }),
      );
      for (let k = 0; k < sizes.length; k++) {
        const want = await reference.run(inputs[k], sizes[k], DIMS);
        expect(Array.from(outs[k]), `batch ${k}`).toEqual(Array.from(want));
      }
      // every slot is free again, and a batch that does not fit a slot is transferred instead
      const views = Array.from({ length: 6 }, () => slots.take(ITEM));
      expect(new Set(views.map((v) => slots.slotOf(v))).size).toBe(6);
      expect(slots.slotOf(slots.take(ITEM))).toBe(-1);
      views.forEach((v) => slots.release(slots.slotOf(v)));
      const big = batchData(9, 5);
      expect(slots.slotOf(slots.take(big.length))).toBe(-1);
      const got = await pool.run(big.slice(), 5, DIMS);
      expect(Array.from(got)).toEqual(Array.from(await reference.run(big, 5, DIMS)));
    } finally {
      await pool.close();
      await reference.close();
    }
  });
});
