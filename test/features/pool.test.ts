import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { canParallelize, runOnWorker, sharedF64, sharedI32 } from '../../src/features/engine/pool.js';

/** This process's own full GC (the flag is only needed to reach it from a test). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('kernel worker', () => {
  it('does not keep the shared arrays of finished kernels alive', async () => {
    expect(canParallelize(), 'this test needs the kernel worker (2+ cores)').toBe(true);
    const MB = 1024 * 1024;
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 12; i++) {
      // 64 MB of shared memory per call, as a large backfill hands the worker
      const codes = sharedI32(16 * MB);
      const ts = sharedF64(1024);
      const hist = sharedI32(16);
      const stats = sharedF64(3);
      codes[0] = 3;
      ts[0] = 7;
      await runOnWorker('hist', { codes, ts, from: 0, to: 1, shift: 0, hist, stats });
      expect(hist[3]).toBe(1);
      expect(stats[0]).toBe(7);
    }
    // the worker lets go of each call's arrays; this process then frees them
    await new Promise((r) => setTimeout(r, 200));
    collect();
    await new Promise((r) => setTimeout(r, 50));
    const grown = (process.memoryUsage().arrayBuffers - before) / MB;
    expect(grown, `${grown.toFixed(0)} MB of shared arrays still alive after 12 × 64 MB calls`).toBeLessThan(200);
  });
});
