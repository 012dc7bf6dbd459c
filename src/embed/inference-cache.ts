/**
 * A process-wide cache of inference worker pools (WorkerPool: worker threads, each with its own ONNX
 * Runtime session), so that consecutive embed jobs in one process (the shards of a job run one after
 * the other, a `strata worker` taking task after task) start inference at once instead of paying
 * for worker threads, session creation and the first runs again. A pool is keyed by everything its
 * sessions depend on (the model's sha256, input/output names, workers, intra-op threads, spinning,
 * execution providers, input slot sizes) and ref-counted: jobs running at the same time with the
 * same key share it. A pool no job holds is closed after its idle time (an unref'd timer), on
 * `closeInferenceCache()`, or when the process is about to exit (beforeExit); idle worker threads
 * never keep the process alive.
 *
 * The model's metadata (input/output tensors, execution providers actually loaded, output size) is
 * remembered per model too, so a job that finds a warm pool opens no session on the main thread.
 */
import { InputSlots, WorkerPool, type WorkerModelOptions } from './job-infer.js';
import type { TensorInfo } from './model.js';

/** What a job needs to know about an image model besides running it. */
export interface ModelMeta {
  readonly inputName: string;
  readonly outputName: string;
  readonly inputShape: TensorInfo;
  readonly fixedBatch: number | undefined;
  /** Floats per item, once known (declared by the model or learnt from a first run). */
  readonly outputDim: number | undefined;
  readonly executionProviders: readonly string[] | undefined;
}

export interface PoolSpec extends WorkerModelOptions {
  readonly sha256: string;
  readonly workers: number;
  /** Input slots (one per batch in flight, plus one) and floats per slot. */
  readonly slotCount: number;
  readonly slotFloats: number;
}

/** A job's hold on a pool: release it exactly once when the job ends. */
export interface PoolLease {
  readonly pool: Promise<WorkerPool>;
  readonly slots: InputSlots;
  /** True when the pool was already running (started by an earlier job). */
  readonly warm: boolean;
  release(): Promise<void>;
}

interface Entry {
  readonly key: string;
  readonly pool: Promise<WorkerPool>;
  readonly slots: InputSlots;
  refs: number;
  timer?: NodeJS.Timeout;
  closing?: Promise<void>;
}

const MAX_META = 64;
const metas = new Map<string, ModelMeta>();
const pools = new Map<string, Entry>();
let exitHook = false;

/** The key of a model's metadata: the file's sha256 plus what picks its tensors and providers. */
export function metaKey(
  sha256: string,
  o: { inputName?: string; outputName?: string; executionProviders?: readonly string[] },
): string {
  return JSON.stringify([sha256, o.inputName ?? null, o.outputName ?? null, o.executionProviders ?? null]);
}

export function cachedMeta(key: string): ModelMeta | undefined {
  return metas.get(key);
}

export function rememberMeta(key: string, meta: ModelMeta): void {
  metas.delete(key);
  metas.set(key, meta);
  if (metas.size > MAX_META) metas.delete(metas.keys().next().value as string);
}

/**
 * A pool for `spec`: the cached one when it is running (or starting) and healthy, else a new one
 * (started from `bytes`, cached under the spec). `idleMs` 0 closes the pool when its last lease is
 * released (nothing is kept).
 */
export function acquirePool(bytes: Uint8Array, spec: PoolSpec, idleMs: number): PoolLease {
  const key = JSON.stringify([
    spec.sha256,
    spec.inputName,
    spec.outputName,
    spec.workers,
    spec.intraOpThreads,
    spec.spinning ?? false,
    spec.executionProviders ?? null,
    spec.slotCount,
    spec.slotFloats,
  ]);
  let entry = pools.get(key);
  const warm = entry !== undefined;
  if (!entry) {
    const slots = new InputSlots(spec.slotCount, spec.slotFloats);
    const pool = WorkerPool.start(bytes, { ...spec, slots });
    const created: Entry = { key, pool, slots, refs: 0 };
    // a pool that fails to start is forgotten (every job waiting on it gets the error)
    pool.catch(() => {
      if (pools.get(key) === created) pools.delete(key);
    });
    pools.set(key, created);
    entry = created;
    hookExit();
  }
  const held = entry;
  held.refs++;
  clearTimeout(held.timer);
  held.timer = undefined;
  let released = false;
  return {
    pool: held.pool,
    slots: held.slots,
    warm,
    release: async () => {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs > 0) return;
      const pool = await held.pool.catch(() => undefined);
      if (held.refs > 0) return; // taken again meanwhile
      if (!pool || pool.failed || idleMs <= 0 || pools.get(key) !== held) return closeEntry(held);
      held.timer = setTimeout(() => void closeEntry(held), idleMs);
      held.timer.unref();
    },
  };
}

/**
 * Closes every cached pool no job holds now and forgets the models' metadata; a pool still in use
 * is closed when its job releases it (it is no longer handed out). Resolves when the idle ones have exited. Call it before
 * `process.exit()` in a program that ran `embed()`; a process that ends by itself does it on beforeExit.
 */
export async function closeInferenceCache(): Promise<void> {
  metas.clear();
  const closing: Promise<void>[] = [];
  for (const e of [...pools.values()]) {
    pools.delete(e.key);
    if (e.refs === 0) closing.push(closeEntry(e));
  }
  await Promise.all(closing);
}

/** Pools in the cache (for tests and diagnostics): how many, and how many are held by a job. */
export function inferenceCacheStats(): { readonly pools: number; readonly held: number } {
  let held = 0;
  for (const e of pools.values()) if (e.refs > 0) held++;
  return { pools: pools.size, held };
}

function closeEntry(e: Entry): Promise<void> {
  clearTimeout(e.timer);
  e.timer = undefined;
  if (pools.get(e.key) === e) pools.delete(e.key);
  e.closing ??= e.pool.then(
    (p) => p.close(),
    () => undefined,
  );
  return e.closing;
}

function hookExit(): void {
  if (exitHook) return;
  exitHook = true;
  // idle workers and timers are unref'd: when nothing else is left, close the pools so that every
  // session is released before the process ends (closing refs the workers until they have exited)
  process.on('beforeExit', () => {
    if (pools.size > 0) void closeInferenceCache();
  });
}
