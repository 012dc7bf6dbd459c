/** Worker thread of the parallel HNSW build (hnsw-parallel.ts): links rows until none are left. */
import { parentPort, workerData } from 'node:worker_threads';
import { HnswGraph } from './hnsw-graph.js';
import { upperViews, type WorkerInit } from './hnsw-parallel.js';
import { simdKernels } from './simd.js';

const init = workerData as WorkerInit;
const levels = new Uint8Array(init.levels);
const n = levels.length;
const graph = new HnswGraph(
  {
    ...init.state,
    levels,
    links0: new Int32Array(init.links0),
    upper: upperViews(levels, new Int32Array(init.upperFlat), new Int32Array(init.upperOffsets), init.state.M),
  },
  undefined,
  {
    kernels: simdKernels(init.memory),
    slot: init.slot,
    slots: init.slots,
    locks: new Int32Array(init.locks),
    top: new Int32Array(init.top),
  },
);
const control = new Int32Array(init.control);
for (;;) {
  if (Atomics.load(control, 2) !== 0) break;
  const id = Atomics.add(control, 0, 1);
  if (id >= n) break;
  graph.link(id, levels[id]);
  Atomics.add(control, 1, 1);
}
parentPort?.close();
