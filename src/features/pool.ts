/**
 * One helper worker thread for the sort's kernels (the main thread does the other half). The worker
 * runs the kernels' own source (`fn.toString()`), so there is no separate worker file to build or
 * resolve. Arrays it writes must live on SharedArrayBuffers. If the worker cannot start, callers fall
 * back to running everything on the main thread. The worker runs a GC after each kernel so it never
 * keeps finished kernels' shared arrays alive (see SOURCE).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
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

/** The kernel worker collects garbage after this long without a kernel to run. */
const IDLE_GC_MS = 50;

const SOURCE = `
const { parentPort } = require('node:worker_threads');
var __name = (f) => f;
const K = { ${Object.entries(KERNELS)
  .map(([k, f]) => `${k}: (${f.toString()})`)
  .join(',\n')} };
// The arrays a kernel gets live on SharedArrayBuffers that stay allocated while any thread holds
// them; this worker allocates almost nothing, so its own GC would not run for minutes and every
// backfill's arrays (~120 MB for 10M events) piled up, and backfills slowed from ~1.0 s to ~3 s
// after a few runs in one process. So the worker collects once it has been idle for a moment (not
// after every kernel: a collection between two kernels of one backfill delays the second). The
// flag is set the way Jest's leak detector does it; without it the worker still works.
let gc = null;
try { require('node:v8').setFlagsFromString('--expose-gc'); gc = require('node:vm').runInNewContext('gc'); } catch {}
let collect = null;
parentPort.on('message', (m) => {
  if (collect) clearTimeout(collect);
  try { K[m.k](m.a); parentPort.postMessage({ id: m.id }); }
  catch (e) { parentPort.postMessage({ id: m.id, error: String((e && e.stack) || e) }); }
  m = null;
  if (gc) collect = setTimeout(() => { collect = null; gc(); }, ${IDLE_GC_MS});
});`;

let worker: Worker | null | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    const w = new Worker(SOURCE, { eval: true });
    w.on('message', (m: { id: number; error?: string }) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (!p) return;
      if (m.error) p.reject(new Error(m.error));
      else p.resolve();
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      worker = null;
    });
    w.unref();
    worker = w;
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

/** Runs a kernel on the worker thread (arguments' typed arrays must be shared to be written back). */
export function runOnWorker<K extends KernelName>(k: K, args: Parameters<(typeof KERNELS)[K]>[0]): Promise<void> {
  const w = getWorker();
  if (!w) return Promise.reject(new Error('no worker thread'));
  const id = nextId++;
  return new Promise<void>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    w.postMessage({ id, k, a: args });
  });
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
