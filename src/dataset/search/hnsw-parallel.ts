import { StrataError } from '../../errors.js';
import type { Progress } from '../../progress.js';
import { startWorker, type WorkerThread } from '../../workers/start.js';
import type { HnswState } from './hnsw-format.js';
import type { HnswWorkerMethods } from './hnsw-worker.js';
import { drawLevel, HnswGraph } from './hnsw-graph.js';
import { SplitMix } from './hnsw-util.js';
import { sharedMemory, simdKernels, type WasmMemory } from './simd.js';
import { SimdVectorStore } from './vector-store.js';

/** What each build worker (hnsw-worker.ts) receives (all buffers shared). */
export interface WorkerInit {
  readonly memory: WasmMemory;
  readonly state: Omit<HnswState, 'levels' | 'links0' | 'upper'>;
  readonly levels: SharedArrayBuffer;
  readonly links0: SharedArrayBuffer;
  readonly upperFlat: SharedArrayBuffer;
  readonly upperOffsets: SharedArrayBuffer;
  readonly locks: SharedArrayBuffer;
  readonly top: SharedArrayBuffer;
  /** Int32 [next row to link, rows linked, stop flag]. */
  readonly control: SharedArrayBuffer;
  readonly slot: number;
  readonly slots: number;
}

/** Upper-layer lists as views into one flat array (offsets in Int32 units). */
export function upperViews(
  levels: Uint8Array,
  flat: Int32Array,
  offsets: Int32Array,
  M: number,
): (Int32Array | undefined)[] {
  const upper = new Array<Int32Array | undefined>(levels.length);
  for (let i = 0; i < levels.length; i++) {
    upper[i] = levels[i] > 0 ? flat.subarray(offsets[i], offsets[i] + levels[i] * (M + 1)) : undefined;
  }
  return upper;
}

/**
 * Builds the graph of `n` vectors with `threads` worker threads linking rows concurrently (the
 * hnswlib scheme: per-node locks, lock-free reads). Levels come from the seed exactly as in a serial
 * build; the graph itself depends on thread timing, so results may differ slightly between runs.
 */
export async function buildParallel(
  vectors: Float32Array,
  base: HnswState,
  threads: number,
  options: { readonly signal?: AbortSignal; readonly onProgress?: (p: Progress) => void },
): Promise<HnswGraph> {
  const { dim, M, M0 } = base;
  const n = vectors.length / dim;
  const rng = new SplitMix(base.rngState);
  const levels = new Uint8Array(new SharedArrayBuffer(n));
  const offsets = new Int32Array(new SharedArrayBuffer(4 * n));
  let upperWords = 0;
  for (let i = 0; i < n; i++) {
    levels[i] = drawLevel(rng, M);
    offsets[i] = upperWords;
    upperWords += levels[i] * (M + 1);
  }
  const links0 = new Int32Array(new SharedArrayBuffer(4 * n * (M0 + 1)));
  const upperFlat = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, upperWords)));
  const locks = new Int32Array(new SharedArrayBuffer(4 * (n + 1)));
  const top = new Int32Array(new SharedArrayBuffer(8)).fill(-1);
  const control = new Int32Array(new SharedArrayBuffer(12));
  const slots = threads + 1; // slot 0: this thread
  const bytes = SimdVectorStore.layoutBytes(dim, slots, n);
  const memory = sharedMemory(bytes, 2 * bytes + (64 << 20));
  const state: HnswState = {
    ...base,
    count: n,
    capacity: n,
    rngState: rng.state,
    levels,
    links0,
    upper: upperViews(levels, upperFlat, offsets, M),
  };
  const graph = new HnswGraph(state, vectors, { kernels: simdKernels(memory), slot: 0, slots, locks, top });
  graph.link(0, levels[0]);
  control[0] = 1;
  control[1] = 1;
  const plain: WorkerInit['state'] = {
    metric: base.metric,
    dim,
    M,
    M0,
    efConstruction: base.efConstruction,
    efSearch: base.efSearch,
    seed: base.seed,
    count: n,
    capacity: n,
    maxLevel: -1,
    entry: -1,
    rngState: rng.state,
  };
  const inits = Array.from({ length: threads }, (_, t): WorkerInit => ({
    memory,
    state: plain,
    levels: levels.buffer,
    links0: links0.buffer,
    upperFlat: upperFlat.buffer,
    upperOffsets: offsets.buffer,
    locks: locks.buffer,
    top: top.buffer,
    control: control.buffer,
    slot: t + 1,
    slots,
  }));
  const stop = () => Atomics.store(control, 2, 1);
  options.signal?.addEventListener('abort', stop, { once: true });
  const timer = setInterval(
    () =>
      options.onProgress?.({ phase: 'hnsw', done: Math.min(n, Atomics.load(control, 1)), total: n, unit: 'vectors' }),
    200,
  );
  const workers: WorkerThread<HnswWorkerMethods>[] = [];
  try {
    for (let t = 0; t < threads; t++) {
      workers.push(startWorker(new URL('./hnsw-worker.js', import.meta.url), { name: 'HNSW build' }));
    }
    const results = await Promise.allSettled(workers.map((w, t) => w.call('link', inits[t])));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (options.signal?.aborted) {
      throw new StrataError('ABORTED', 'HNSW build was aborted', { cause: options.signal.reason });
    }
    if (failed) {
      throw new StrataError('UNAVAILABLE', `parallel HNSW build failed: ${String(failed.reason)}`, {
        cause: failed.reason,
        hint: 'retry with threads: 1',
      });
    }
  } finally {
    stop();
    clearInterval(timer);
    options.signal?.removeEventListener('abort', stop);
    await Promise.all(workers.map((w) => w.close()));
  }
  graph.detach();
  options.onProgress?.({ phase: 'hnsw', done: n, total: n, unit: 'vectors' });
  return graph;
}
