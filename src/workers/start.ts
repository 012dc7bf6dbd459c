/**
 * The parent's side of a worker thread: `startWorker` loads a worker module (one that calls
 * `serveWorker`, serve.ts) and returns a typed client whose `call`s resolve with the method's result
 * or reject with a StrataError. Used by every worker in Strata: the feature engine's kernel worker,
 * the inference workers and the HNSW build workers.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { StrataError } from '../errors.js';
import { fromWire, type Inbound, type Methods, type Outbound } from './protocol.js';

export interface StartWorkerOptions {
  /** Names the worker in errors, e.g. 'inference'. */
  readonly name: string;
  /** Given to the worker as `workerData`. Default none. */
  readonly workerData?: unknown;
  /** How long `close()` lets the worker finish its queue before terminating it. Default 5000. */
  readonly closeTimeoutMs?: number;
}

type Arg<F> = F extends (arg: infer A) => unknown ? A : never;
type Result<F> = F extends (arg: never) => infer R ? Awaited<R> : never;

/** A running worker thread speaking protocol `P` (an interface of one-argument methods). */
export class WorkerThread<P extends Methods<P>> {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: StrataError) => void }>();
  private failure: StrataError | undefined;
  private closing: Promise<void> | undefined;
  private loaded = false;

  /** @internal use startWorker. */
  constructor(
    private readonly worker: Worker,
    private readonly options: StartWorkerOptions,
  ) {
    // an idle worker never keeps the process alive; one with calls in flight (or closing) does
    worker.unref();
    worker.on('message', (m: Outbound) => this.receive(m));
    worker.on('error', (err) =>
      this.fail(
        new StrataError('UNAVAILABLE', `the ${options.name} worker thread failed: ${err.message}`, {
          cause: err,
          hint: this.loaded ? 'this is a bug in Strata; the stack is in the cause' : 'the worker module did not load',
        }),
      ),
    );
    worker.on('exit', (code) => {
      if (this.closing) return;
      this.fail(new StrataError('UNAVAILABLE', `the ${options.name} worker thread exited (code ${code})`, {}));
    });
  }

  /** Whether the worker module has loaded. A call that fails while this is false never ran. */
  get started(): boolean {
    return this.loaded;
  }

  /** Whether the thread has died (failed to load, threw outside a call, or exited): every call rejects. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Runs `method` on the worker. Calls run one at a time, in order. Objects in `transfer` move to the
   * worker (unusable here afterwards); SharedArrayBuffers are shared, never copied.
   */
  call<M extends keyof P & string>(
    method: M,
    arg: Arg<P[M]>,
    transfer: readonly TransferListItem[] = [],
  ): Promise<Result<P[M]>> {
    if (this.closing) {
      return Promise.reject(
        new StrataError('INVALID_ARGUMENT', `the ${this.options.name} worker thread is closed`, {
          hint: 'start a new one',
        }),
      );
    }
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Result<P[M]>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.size === 1) this.worker.ref();
      const message: Inbound = { kind: 'call', id, method, arg };
      try {
        this.worker.postMessage(message, transfer.length ? (transfer as TransferListItem[]) : undefined);
      } catch (err) {
        this.settle(id);
        reject(
          new StrataError('INVALID_ARGUMENT', `cannot send ${method} to the ${this.options.name} worker thread`, {
            cause: err,
            hint: 'its argument must be structured-cloneable',
          }),
        );
      }
    });
  }

  /**
   * Lets the worker finish the calls already sent, runs its close hook and waits for it to exit
   * (terminating it after `closeTimeoutMs`). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(): Promise<void> {
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    if (this.failure) {
      await this.worker.terminate();
      return;
    }
    this.worker.postMessage({ kind: 'close' } satisfies Inbound);
    const timer = setTimeout(() => void this.worker.terminate(), this.options.closeTimeoutMs ?? 5000);
    await exited;
    clearTimeout(timer);
    this.fail(new StrataError('UNAVAILABLE', `the ${this.options.name} worker thread was closed mid-call`, {}));
  }

  private receive(m: Outbound): void {
    if (m.kind === 'ready') {
      this.loaded = true;
      return;
    }
    const p = this.settle(m.id);
    if (!p) return;
    if (m.kind === 'reply') p.resolve(m.value);
    else p.reject(fromWire(m.error, this.options.name));
  }

  private settle(id: number) {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (p && this.pending.size === 0 && !this.closing) this.worker.unref();
    return p;
  }

  private fail(err: StrataError): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!this.closing) this.worker.unref();
  }
}

/**
 * Starts the worker module at `moduleUrl` (a `.js` URL next to the caller:
 * `new URL('./kernel-worker.js', import.meta.url)`). From compiled output that file is loaded as it
 * is; from TypeScript sources (vitest, tsx) the `.ts` file beside it is loaded through tsx. Throws
 * UNAVAILABLE when no thread can be started; a module that fails to load rejects the first calls.
 */
export function startWorker<P extends Methods<P>>(moduleUrl: URL, options: StartWorkerOptions): WorkerThread<P> {
  try {
    return new WorkerThread<P>(spawn(moduleUrl, options.workerData), options);
  } catch (err) {
    throw new StrataError('UNAVAILABLE', `cannot start the ${options.name} worker thread`, { cause: err });
  }
}

function spawn(moduleUrl: URL, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(moduleUrl, { workerData });
  // running from TypeScript sources: the worker registers tsx's loader, then imports the .ts entry
  const entry = moduleUrl.href.replace(/\.js$/, '.ts');
  const code = `import(${JSON.stringify(tsxApi())}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/** The file URL of tsx's ESM API (its CommonJS API cannot register the loader from a worker). */
function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const pkg = require('tsx/package.json') as { exports: Record<string, { import?: { default?: string } }> };
  const file = pkg.exports['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
  return new URL(file, pathToFileURL(require.resolve('tsx/package.json'))).href;
}
