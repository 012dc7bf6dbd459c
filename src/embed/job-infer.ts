import { StrataError } from '../errors.js';
import { startWorker, type WorkerThread } from '../workers/start.js';
import type { InferMethods } from './infer-worker.js';

/*
 * onnxruntime-node's session.run() executes synchronously on the calling JS thread (inside a
 * setImmediate), so inference on the main thread freezes storage reads, decode completions and
 * tensor packing for the whole run. The job therefore runs the model in a worker thread: the main
 * thread keeps the read/decode side of the pipeline moving while ONNX Runtime computes (the worker
 * module: infer-worker.ts).
 */

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
  /** Execution providers (those the main thread's session loaded with). Default: CPU. */
  readonly executionProviders?: readonly string[];
}

/** An ONNX Runtime session living in a worker thread; `run` resolves without blocking this thread. */
export class WorkerModel {
  private constructor(
    private readonly worker: WorkerThread<InferMethods>,
    private readonly options: WorkerModelOptions,
    private readonly slots?: InputSlots,
  ) {}

  static async start(bytes: Uint8Array, options: WorkerModelOptions, slots?: InputSlots): Promise<WorkerModel> {
    const worker = startWorker<InferMethods>(new URL('./infer-worker.js', import.meta.url), { name: 'inference' });
    const sessionOptions = {
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential' as const,
      graphOptimizationLevel: 'all' as const,
      ...(options.executionProviders ? { executionProviders: [...options.executionProviders] } : {}),
      // Idle intra-op threads sleep instead of spinning: spinning burns the cores the decoders need.
      ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    };
    // a copy of its own (Buffer#slice would be a view), moved to the worker rather than cloned again
    const copy = Uint8Array.prototype.slice.call(bytes);
    const init = {
      bytes: copy,
      sessionOptions,
      slots: slots?.buffers ?? [],
      inputName: options.inputName,
      outputName: options.outputName,
      uri: options.uri,
    };
    try {
      await worker.call('init', init, [copy.buffer]);
    } catch (err) {
      await worker.close();
      throw err;
    }
    return new WorkerModel(worker, options, slots);
  }

  /**
   * Runs n items of `itemDims`. A batch on an InputSlots slot is passed by index (the slot is free
   * again when this returns); any other batch is transferred (do not reuse it). Returns n × dim floats.
   */
  async run(batch: Float32Array, n: number, itemDims: readonly number[]): Promise<Float32Array> {
    const dims = [n, ...itemDims];
    const slot = this.slots?.slotOf(batch) ?? -1;
    let r: { readonly data: Float32Array; readonly dims: readonly number[] };
    if (slot >= 0) {
      try {
        r = await this.worker.call('run', { slot, dims });
      } finally {
        this.slots!.release(slot);
      }
    } else {
      const data = batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength ? batch : batch.slice();
      r = await this.worker.call('run', { data, dims }, [data.buffer as ArrayBuffer]);
    }
    if (r.dims[0] !== n) {
      throw new StrataError(
        'UNSUPPORTED',
        `model ${this.options.uri} output '${this.options.outputName}' has batch ${r.dims[0]}, expected ${n}`,
        {
          uri: this.options.uri,
          field: 'outputName',
          hint: 'the output must have the batch as its first dimension',
        },
      );
    }
    return r.data;
  }

  /** Whether the worker thread has died (every run would fail). */
  get failed(): boolean {
    return this.worker.failed;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    await this.worker.close();
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

  /** Whether any of its workers has died. */
  get failed(): boolean {
    return this.workers.some((w) => w.failed);
  }

  /** Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
