import { StrataError, throwIfAborted, type ErrorCode } from '../errors.js';
import { type Progress, ProgressClock } from '../progress.js';

/** One sample after the read + decode/resize stage: model-sized pixels (one per image/frame). */
export interface PreparedSample {
  readonly row: number;
  /** Resized HWC uint8 pixels per item; empty when the sample failed or was empty. */
  readonly items: readonly Uint8Array[];
  /** Frame timestamps (seconds) for videos. */
  readonly timestamps?: readonly number[];
  /** Why the sample could not be embedded (decode error, missing linked file); it is written as null. */
  readonly failure?: string;
  /** The error code strict mode raises for `failure`. Default 'CORRUPT'. */
  readonly failureCode?: ErrorCode;
  /** The linked file the failure is about, if any. */
  readonly file?: string;
  /** The source cell was null: written as null, not counted as a failure. */
  readonly empty?: boolean;
}

/** One sample after inference: one vector per tensor, in order. */
export interface EmbeddedSample extends Omit<PreparedSample, 'items'> {
  readonly vectors: readonly Float32Array[];
}

export interface PipelineOptions<S> {
  /** Samples in row order. */
  readonly source: AsyncIterable<S>;
  /** Storage read + decode/resize of one sample (runs `concurrency` at a time). */
  readonly prepare: (item: S) => Promise<PreparedSample>;
  readonly concurrency: number;
  /**
   * Preparations started while a model run is in flight (they compete with ONNX Runtime's threads
   * for the cores). Default `concurrency`; 0 alternates strictly: decode, then infer.
   */
  readonly concurrencyWhileInferring?: number;
  /** Prepared samples held ahead of inference (bounds memory). */
  readonly window: number;
  /** Images per model run. */
  readonly batchSize: number;
  readonly itemFloats: number;
  /** Writes items as model input into `out` (n × itemFloats floats), e.g. toTensor. */
  readonly pack: (items: readonly Uint8Array[], out: Float32Array) => void;
  /** A buffer for n × itemFloats packed floats (e.g. a shared input slot of the inference workers). Default: a new one. */
  readonly allocate?: (floats: number) => Float32Array;
  /** Runs n packed items (the buffer is handed over), returns n × dim floats. */
  readonly infer: (batch: Float32Array, n: number) => Promise<Float32Array>;
  /**
   * Batches handed to `infer` at once (default 2): one per model session plus one packed and queued
   * so a session never waits for this thread to pack or write.
   */
  readonly batchesInFlight?: number;
  /** Receives every inferred batch of samples in row order. */
  readonly write: (samples: EmbeddedSample[]) => Promise<void>;
  readonly signal?: AbortSignal;
}

/** A wake-up signal for the two loops below. */
class Notifier {
  private waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Where the time went (ms): model idle waiting for samples, model busy, writing results. */
export interface PipelineStats {
  starvedMs: number;
  inferMs: number;
  writeMs: number;
}

/**
 * Storage reads and decode/resize (many at a time, on libuv's pool via sharp/ffmpeg) overlap with
 * inference (ONNX Runtime's own threads): a producer keeps up to `window` prepared samples ahead
 * while the consumer batches them in row order, packs each batch (`pack`) while the previous one
 * is in the model, and hands results to `write` in order. Memory is bounded by `window` samples
 * plus two batches. The first error stops both sides.
 */
export async function runPipeline<S>(o: PipelineOptions<S>): Promise<PipelineStats> {
  const stats: PipelineStats = { starvedMs: 0, inferMs: 0, writeMs: 0 };
  const queue: Promise<PreparedSample>[] = [];
  const changed = new Notifier();
  let sourceDone = false;
  // the first error, boxed: `undefined` could itself be thrown
  let failed: { readonly error: unknown } | undefined;
  let stopped = false;
  let inFlight = 0;
  let inferring = false;
  const limit = (): number => (inferring ? (o.concurrencyWhileInferring ?? o.concurrency) : o.concurrency);

  const producer = (async () => {
    try {
      for await (const item of o.source) {
        while (!stopped && (queue.length >= o.window || inFlight >= limit())) await changed.wait();
        if (stopped) return;
        throwIfAborted(o.signal, 'embedding job');
        inFlight++;
        const p = o.prepare(item).finally(() => {
          inFlight--;
          changed.notify();
        });
        p.catch(() => undefined); // surfaced when the consumer awaits it
        queue.push(p);
        changed.notify();
      }
    } catch (err) {
      failed ??= { error: err };
    } finally {
      sourceDone = true;
      changed.notify();
    }
  })();

  const next = async (): Promise<PreparedSample | undefined> => {
    for (;;) {
      if (failed !== undefined) throw failed.error;
      const p = queue.shift();
      if (p) {
        changed.notify();
        return p;
      }
      if (sourceDone) return undefined;
      await changed.wait();
    }
  };

  // Up to `batchesInFlight` batches are handed to the model: the next one is packed and queued
  // while the current ones run, so a session never waits for this thread to pack or write.
  let inflight = 0;
  let lastDone = performance.now();
  const post = (batch: PreparedSample[], items: number): Promise<EmbeddedSample[]> => {
    const posted = performance.now();
    if (inflight === 0) stats.starvedMs += posted - lastDone;
    inflight++;
    inferring = true;
    const p = inferBatch(batch, items, o).finally(() => {
      const now = performance.now();
      stats.inferMs += now - Math.max(posted, lastDone);
      lastDone = now;
      inflight--;
      inferring = inflight > 0;
      changed.notify();
    });
    p.catch(() => undefined); // surfaced by drain
    return p;
  };
  const drain = async (p: Promise<EmbeddedSample[]>): Promise<void> => {
    const out = await p;
    const t = performance.now();
    await o.write(out);
    stats.writeMs += performance.now() - t;
  };

  try {
    let batch: PreparedSample[] = [];
    let items = 0;
    const pending: Promise<EmbeddedSample[]>[] = [];
    const maxInFlight = Math.max(1, o.batchesInFlight ?? 2);
    for (;;) {
      const s = await next();
      if (s !== undefined) {
        batch.push(s);
        items += s.items.length;
      }
      if ((s === undefined && batch.length > 0) || items >= o.batchSize) {
        throwIfAborted(o.signal, 'embedding job');
        pending.push(post(batch, items));
        while (pending.length >= maxInFlight) await drain(pending.shift()!);
        batch = [];
        items = 0;
      }
      if (s === undefined) break;
    }
    while (pending.length > 0) await drain(pending.shift()!);
  } catch (err) {
    failed ??= { error: err };
  } finally {
    stopped = true;
    changed.notify();
    await producer;
    // let started preparations settle so nothing runs after we return
    await Promise.allSettled(queue);
  }
  if (failed !== undefined) throw failed.error;
  return stats;
}

async function inferBatch<S>(
  samples: PreparedSample[],
  items: number,
  o: PipelineOptions<S>,
): Promise<EmbeddedSample[]> {
  const outputs: Float32Array[] = [];
  const all = samples.flatMap((s) => s.items);
  for (let at = 0; at < items; at += o.batchSize) {
    const n = Math.min(o.batchSize, items - at);
    const packed = o.allocate?.(n * o.itemFloats) ?? new Float32Array(n * o.itemFloats);
    o.pack(all.slice(at, at + n), packed);
    const y = await o.infer(packed, n);
    if (y.length % n !== 0) {
      throw new StrataError('UNSUPPORTED', `model returned ${y.length} floats for ${n} inputs`, {
        hint: 'the output must be [batch, ...]',
      });
    }
    const d = y.length / n;
    for (let j = 0; j < n; j++) outputs.push(y.slice(j * d, (j + 1) * d));
  }
  let k = 0;
  return samples.map(({ items: its, ...rest }) => ({ ...rest, vectors: its.map(() => outputs[k++]) }));
}

/** Counts the samples of a run: progress snapshots with elapsed time and time left. */
export class RateMeter {
  private readonly clock: ProgressClock;
  private done = 0;
  constructor(total: number, unit = 'samples') {
    this.clock = new ProgressClock('embed', unit, total);
  }
  add(n: number, extra: Partial<Pick<Progress, 'skipped' | 'committedRows'>> = {}): Progress {
    this.done += n;
    return this.clock.at(this.done, extra);
  }
}
