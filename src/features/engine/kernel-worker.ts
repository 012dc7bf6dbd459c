/**
 * The feature engine's kernel worker (pool.ts starts it): runs one kernel at a time on the arrays it
 * is given, which live on SharedArrayBuffers so that what it writes is seen by the main thread.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { serveWorker } from '../../workers/serve.js';
import { KERNELS, type KernelCall } from './pool.js';

export interface KernelMethods {
  run(call: KernelCall): void;
}

/**
 * The arrays a kernel gets stay allocated while any thread holds them. This worker allocates almost
 * nothing, so its own GC would not run for minutes and every backfill's arrays would pile up,
 * slowing later backfills in the same process. So it collects once it has been idle for a moment
 * (not after every kernel: a collection between two kernels of one backfill delays the second).
 * The flag is set the way Jest's leak detector does it; without it the worker still works.
 */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

serveWorker<KernelMethods>(
  {
    run({ k, a }) {
      (KERNELS[k] as (a: unknown) => void)(a);
    },
  },
  { onIdle: exposeGc(), idleMs: 50 },
);
