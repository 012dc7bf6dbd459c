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
parentPort.on('message', async (m) => {
  if (m.type === 'close') {
    try { if (session) await session.release(); } finally { parentPort.close(); }
    return;
  }
  try {
    if (m.type === 'init') {
      session = await ort.InferenceSession.create(m.bytes, m.options);
      parentPort.postMessage({ id: m.id, ok: true });
      return;
    }
    const x = new ort.Tensor('float32', m.data, m.dims);
    const r = await session.run({ [m.inputName]: x }, [m.outputName]);
    const y = r[m.outputName];
    const data = y.data;
    // the input buffer goes back too, for the next batch (no fresh 100 MB/s of zeroed pages)
    parentPort.postMessage({ id: m.id, ok: true, data, dims: y.dims, input: m.data }, [data.buffer, m.data.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, ok: false, message: String(err && err.message || err) });
  }
});
`;

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly message?: string;
  readonly data?: Float32Array;
  readonly dims?: readonly number[];
  /** The input buffer, handed back after the run. */
  readonly input?: Float32Array;
}

/** Input buffers handed back by the workers, reused for later batches of the same size. */
export class BufferPool {
  private readonly free: Float32Array[] = [];
  constructor(private readonly max = 8) {}
  /** A buffer of exactly `floats` floats: a returned one when available (its contents are stale). */
  take(floats: number): Float32Array {
    const i = this.free.findIndex((b) => b.length === floats);
    return i >= 0 ? this.free.splice(i, 1)[0] : new Float32Array(floats);
  }
  give(buffer: Float32Array): void {
    if (this.free.length < this.max) this.free.push(buffer);
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

  private constructor(private readonly worker: Worker, private readonly options: WorkerModelOptions, private readonly buffers?: BufferPool) {
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => this.failAll(new Error('inference worker exited')));
  }

  static async start(bytes: Uint8Array, options: WorkerModelOptions, buffers?: BufferPool): Promise<WorkerModel> {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } });
    const m = new WorkerModel(worker, options, buffers);
    const sessionOptions = {
      intraOpNumThreads: options.intraOpThreads, interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all',
      // Idle intra-op threads sleep instead of spinning: spinning burns the cores the decoders need.
      ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    };
    const r = await m.call({ type: 'init', bytes: bytes.slice(), options: sessionOptions });
    if (!r.ok) {
      await m.close();
      throw new StrataError('CORRUPT', `ONNX Runtime cannot load model ${options.uri} in the inference worker: ${r.message}`, { uri: options.uri });
    }
    return m;
  }

  private failAll(err: unknown): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.closed) return Promise.reject(new StrataError('INVALID_ARGUMENT', `model ${this.options.uri} is closed`, { uri: this.options.uri }));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /** Runs n items of `itemDims`; `batch` is transferred (do not reuse it). Returns n × dim floats. */
  async run(batch: Float32Array, n: number, itemDims: readonly number[]): Promise<Float32Array> {
    const dims = [n, ...itemDims];
    const data = batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength ? batch : batch.slice();
    const r = await this.call({ type: 'run', data, dims, inputName: this.options.inputName, outputName: this.options.outputName }, [data.buffer as ArrayBuffer]);
    if (r.input) this.buffers?.give(r.input);
    if (!r.ok) {
      throw new StrataError('INVALID_ARGUMENT', `model ${this.options.uri} failed on input '${this.options.inputName}' ${formatDims(dims)}: ${r.message}`, {
        uri: this.options.uri, hint: 'check the preprocess size, layout and channels against the model input',
      });
    }
    if (r.dims?.[0] !== n) {
      throw new StrataError('UNSUPPORTED', `model ${this.options.uri} output '${this.options.outputName}' has batch ${r.dims?.[0]}, expected ${n}`, {
        uri: this.options.uri, field: 'outputName', hint: 'the output must have the batch as its first dimension',
      });
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

  static async start(bytes: Uint8Array, options: WorkerModelOptions & { readonly workers: number; readonly buffers?: BufferPool }): Promise<WorkerPool> {
    const buffers = options.buffers ?? new BufferPool(2 * options.workers + 2);
    const started = await Promise.allSettled(Array.from({ length: options.workers }, () => WorkerModel.start(bytes, options, buffers)));
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

