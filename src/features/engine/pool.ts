/**
 * One helper worker thread for the sort's kernels (the main thread does the other half): the module
 * kernel-worker.ts, which collects garbage whenever it has been idle for a moment so that it never
 * keeps finished kernels' shared arrays alive. Arrays it writes must live on SharedArrayBuffers. If
 * the worker cannot start, callers fall back to running everything on the main thread.
 */
import { availableParallelism } from 'node:os';
import { StrataError } from '../../errors.js';
import { startWorker, type WorkerThread } from '../../workers/start.js';
import type { KernelMethods } from './kernel-worker.js';
import { pairKernel, probeKernel } from './probe-kernels.js';
import { bucketKernel, histKernel, scatterKernel } from './sort-kernels.js';
import { tileKernel } from './tile-kernel.js';

export const KERNELS = {
  hist: histKernel,
  scatter: scatterKernel,
  bucket: bucketKernel,
  probe: probeKernel,
  pair: pairKernel,
  tile: tileKernel,
} as const;
export type KernelName = keyof typeof KERNELS;

/** One kernel run: the kernel's name and its arguments. */
export type KernelCall = {
  [K in KernelName]: { readonly k: K; readonly a: Parameters<(typeof KERNELS)[K]>[0] };
}[KernelName];

/** The worker, once asked for: null when it cannot run (then everything runs on the main thread). */
let worker: WorkerThread<KernelMethods> | null | undefined;

function getWorker(): WorkerThread<KernelMethods> | null {
  if (worker !== undefined) return worker;
  try {
    worker = startWorker<KernelMethods>(new URL('./kernel-worker.js', import.meta.url), { name: 'feature kernel' });
  } catch {
    worker = null;
  }
  return worker;
}

/** Whether a second thread is available for kernels. */
export function canParallelize(): boolean {
  if (process.env.STRATA_FEATURES_THREADS === '1') return false;
  return availableParallelism() >= 2 && typeof SharedArrayBuffer === 'function' && getWorker() !== null;
}

/**
 * Runs a kernel on the worker thread (arguments' typed arrays must be shared to be written back).
 * When the worker turns out not to load, the kernel runs here instead and later calls stay here.
 */
export async function runOnWorker<K extends KernelName>(k: K, args: Parameters<(typeof KERNELS)[K]>[0]): Promise<void> {
  const w = getWorker();
  if (!w) throw new StrataError('UNAVAILABLE', 'the feature kernel worker thread is not available', {});
  try {
    await w.call('run', { k, a: args } as KernelCall);
  } catch (err) {
    // a dead worker is not asked again: later kernels run on this thread
    if (w.failed && worker === w) worker = null;
    if (w.started) throw err;
    // it never ran anything (its module did not load): this thread does the work
    if (worker === null) {
      process.emitWarning(`running feature kernels on the main thread: ${(err as Error).message}`, {
        code: 'STRATA_NO_KERNEL_WORKER',
      });
    }
    void w.close();
    (KERNELS[k] as (a: unknown) => void)(args);
  }
}

export function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8));
}

export function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

/** The array itself when it already lives on a SharedArrayBuffer, else a shared copy. */
export function toShared<T extends Float64Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = (a instanceof Float64Array ? sharedF64(a.length) : sharedI32(a.length)) as T;
  out.set(a);
  return out;
}

/** Arrays this large are allocated on SharedArrayBuffers (so the sort's worker can use them without a copy). */
export const SHARED_MIN_LENGTH = 1_000_000;

export function allocF64(n: number): Float64Array {
  return n >= SHARED_MIN_LENGTH && typeof SharedArrayBuffer === 'function' ? sharedF64(n) : new Float64Array(n);
}

export function allocI32(n: number): Int32Array {
  return n >= SHARED_MIN_LENGTH && typeof SharedArrayBuffer === 'function' ? sharedI32(n) : new Int32Array(n);
}
