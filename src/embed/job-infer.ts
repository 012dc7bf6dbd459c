import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { StrataError } from '../errors.js';
import { formatDims } from './model.js';

/*
 * onnxruntime-node's session.run() executes synchronously on the calling JS thread (inside a
 * setImmediate), so inference on the main thread freezes storage reads, decode completions and
 * tensor packing for the whole run. The job therefore runs the model in a worker thread: the main
 * thread keeps the read/decode side of the pipeline moving while ONNX Runtime computes.
 */

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
let session;
let slots = [];
let local;
// One message at a time: a run's copy into 'local' must not overwrite a run still in the session.
let queue = Promise.resolve();
parentPort.on('message', (m) => { queue = queue.then(() => handle(m)).catch(() => undefined); });
async function handle(m) {
  if (m.type === 'close') {
    try { if (session) await session.release(); } finally { parentPort.close(); }
    return;
  }
  try {
    if (m.type === 'init') {
      session = await ort.InferenceSession.create(m.bytes, m.options);
      slots = m.slots || [];
      parentPort.postMessage({ id: m.id, ok: true });
      return;
    }
    let data = m.data;
    if (m.slot !== undefined) {
      // ONNX Runtime takes no SharedArrayBuffer views: copy the slot into this worker's own buffer
      const floats = m.dims.reduce((a, b) => a * b, 1);
      if (!local || local.length !== floats) local = new Float32Array(floats);
      local.set(new Float32Array(slots[m.slot], 0, floats));
      data = local;
    }
    const x = new ort.Tensor('float32', data, m.dims);
    const r = await session.run({ [m.inputName]: x }, [m.outputName]);
    const y = r[m.outputName];
    parentPort.postMessage({ id: m.id, ok: true, data: y.data, dims: y.dims }, [y.data.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, ok: false, message: String(err && err.message || err) });
  }
}
`;

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly message?: string;
  readonly data?: Float32Array;
  readonly dims?: readonly number[];
}

/**
 * Input batches in SharedArrayBuffer slots that every inference worker sees: the main thread packs a
 * batch into a free slot and posts only the slot's index. Transferring an ArrayBuffer instead (even
 * the same one, handed back and forth) registers its size as newly allocated external memory in the
 * receiving isolate on every message, ~600 KB per 224×224 image, and V8 answered with a full
 * mark-compact every ~50 images (12 per 600 in the main thread; 7-8 with slots, from decoded pixels
 * and sample reads).
 */
export class InputSlots {
  readonly buffers: readonly SharedArrayBuffer[];
  private readonly free: number[];
  constructor(
    count: number,
    private readonly slotFloats: number,
  ) {
    this.buffers = Array.from(
      { length: count },
      () => new SharedArrayBuffer(slotFloats * Float32Array.BYTES_PER_ELEMENT),
    );
    this.free = this.buffers.map((_, i) => i);
  }
  /** `floats` floats on a free slot (contents stale), or a plain array when none is free or it does not fit. */
  take(floats: number): Float32Array {
    const i = floats <= this.slotFloats ? this.free.pop() : undefined;
    return i === undefined ? new Float32Array(floats) : new Float32Array(this.buffers[i], 0, floats);
  }
  /** The slot `view` is on, or -1 for a plain array. */
  slotOf(view: Float32Array): number {
    return view.buffer instanceof SharedArrayBuffer ? this.buffers.indexOf(view.buffer) : -1;
  }
  release(slot: number): void {
    if (slot >= 0 && !this.free.includes(slot)) this.free.push(slot);
  }
}

export interface WorkerModelOptions {
  readonly inputName: string;
  readonly outputName: string;
  readonly intraOpThreads: number;
  /** Let ONNX Runtime's idle intra-op threads spin (its default). Default false. */
  readonly spinning?: boolean;
  /** For messages. */
  readonly uri: string;
}

/** An ONNX Runtime session living in a worker thread; `run` resolves without blocking this thread. */
export class WorkerModel {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    private readonly options: WorkerModelOptions,
    private readonly slots?: InputSlots,
  ) {
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => this.failAll(new Error('inference worker exited')));
  }

  static async start(bytes: Uint8Array, options: WorkerModelOptions, slots?: InputSlots): Promise<WorkerModel> {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } });
    const m = new WorkerModel(worker, options, slots);
    const sessionOptions = {
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle intra-op threads sleep instead of spinning: spinning burns the cores the decoders need.
      ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    };
    // a copy of its own (Buffer#slice would be a view), moved to the worker rather than cloned again
    const copy = Uint8Array.prototype.slice.call(bytes);
    const r = await m.call({ type: 'init', bytes: copy, options: sessionOptions, slots: slots?.buffers ?? [] }, [
      copy.buffer as ArrayBuffer,
    ]);
    if (!r.ok) {
      await m.close();
      throw new StrataError(
        'CORRUPT',
        `ONNX Runtime cannot load model ${options.uri} in the inference worker: ${r.message}`,
        { uri: options.uri },
      );
    }
    return m;
  }

  private failAll(err: unknown): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.closed)
      return Promise.reject(
        new StrataError('INVALID_ARGUMENT', `model ${this.options.uri} is closed`, { uri: this.options.uri }),
      );
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /**
   * Runs n items of `itemDims`. A batch on an InputSlots slot is passed by index (the slot is free
   * again when this returns); any other batch is transferred (do not reuse it). Returns n × dim floats.
   */
  async run(batch: Float32Array, n: number, itemDims: readonly number[]): Promise<Float32Array> {
    const dims = [n, ...itemDims];
    const names = { inputName: this.options.inputName, outputName: this.options.outputName };
    const slot = this.slots?.slotOf(batch) ?? -1;
    let r: Reply;
    if (slot >= 0) {
      try {
        r = await this.call({ type: 'run', slot, dims, ...names });
      } finally {
        this.slots!.release(slot);
      }
    } else {
      const data = batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength ? batch : batch.slice();
      r = await this.call({ type: 'run', data, dims, ...names }, [data.buffer as ArrayBuffer]);
    }
    if (!r.ok) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `model ${this.options.uri} failed on input '${this.options.inputName}' ${formatDims(dims)}: ${r.message}`,
        {
          uri: this.options.uri,
          hint: 'check the preprocess size, layout and channels against the model input',
        },
      );
    }
    if (r.dims?.[0] !== n) {
      throw new StrataError(
        'UNSUPPORTED',
        `model ${this.options.uri} output '${this.options.outputName}' has batch ${r.dims?.[0]}, expected ${n}`,
        {
          uri: this.options.uri,
          field: 'outputName',
          hint: 'the output must have the batch as its first dimension',
        },
      );
    }
    return r.data as Float32Array;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close', id: -1 });
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Several WorkerModels, each with its own session: a batch goes to the worker with the fewest
 * batches queued. Independent single-threaded sessions keep every core busy without ONNX Runtime's
 * per-operator barrier, which stalls a multi-threaded run whenever a decoder holds one of its cores.
 */
export class WorkerPool {
  private readonly queued: number[];
  private constructor(private readonly workers: readonly WorkerModel[]) {
    this.queued = workers.map(() => 0);
  }

  static async start(
    bytes: Uint8Array,
    options: WorkerModelOptions & { readonly workers: number; readonly slots?: InputSlots },
  ): Promise<WorkerPool> {
    const started = await Promise.allSettled(
      Array.from({ length: options.workers }, () => WorkerModel.start(bytes, options, options.slots)),
    );
    const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((w) => w.close()));
      throw failed.reason;
    }
    return new WorkerPool(ok);
  }

  async run(batch: Float32Array, n: number, itemDims: readonly number[]): Promise<Float32Array> {
    let at = 0;
    for (let i = 1; i < this.queued.length; i++) if (this.queued[i] < this.queued[at]) at = i;
    this.queued[at]++;
    try {
      return await this.workers[at].run(batch, n, itemDims);
    } finally {
      this.queued[at]--;
    }
  }

  /** Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
