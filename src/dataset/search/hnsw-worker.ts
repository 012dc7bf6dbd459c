/** Worker thread of the parallel HNSW build (hnsw-parallel.ts): links rows until none are left. */
import { serveWorker } from '../../workers/serve.js';
import { HnswGraph } from './hnsw-graph.js';
import { upperViews, type WorkerInit } from './hnsw-parallel.js';
import { simdKernels } from './simd.js';

export interface HnswWorkerMethods {
  /** Links rows (taken from the shared counter) until none are left or the stop flag is set; returns how many. */
  link(init: WorkerInit): number;
}

function link(init: WorkerInit): number {
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
  let linked = 0;
  for (;;) {
    if (Atomics.load(control, 2) !== 0) break;
    const id = Atomics.add(control, 0, 1);
    if (id >= n) break;
    graph.link(id, levels[id]);
    Atomics.add(control, 1, 1);
    linked++;
  }
  return linked;
}

serveWorker<HnswWorkerMethods>({ link });
