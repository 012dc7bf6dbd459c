/**
 * The worker's side of a worker thread (see start.ts): a worker module calls `serveWorker` once, at
 * its top level, with the methods of its protocol.
 */
import { parentPort, type TransferListItem } from 'node:worker_threads';
import { StrataError } from '../errors.js';
import { toWire, type Inbound, type Methods, type Outbound } from './protocol.js';

/** A method's result together with the objects to move (not copy) to the parent. */
export class Transfer<T> {
  constructor(
    readonly value: T,
    readonly list: readonly TransferListItem[],
  ) {}
}

/** A method of a served protocol may return `Transfer` wrappers in place of its values. */
export type Served<P> = {
  [M in keyof P]: P[M] extends (arg: infer A) => infer R
    ? (arg: A) => Awaited<R> | Transfer<Awaited<R>> | Promise<Awaited<R> | Transfer<Awaited<R>>>
    : never;
};

export interface ServeOptions {
  /** Runs when no call has arrived for `idleMs` after the last one finished. */
  readonly onIdle?: () => void;
  /** Default 50. */
  readonly idleMs?: number;
  /** Runs once the parent closes the worker, after the calls already sent (e.g. to release a session). */
  readonly onClose?: () => void | Promise<void>;
}

/**
 * Answers the parent's calls with `methods`, one call at a time in arrival order (a method that
 * returns a promise finishes before the next starts). A method that throws rejects the parent's call:
 * a StrataError arrives with its code, message and details.
 */
export function serveWorker<P extends Methods<P>>(methods: Served<P>, options: ServeOptions = {}): void {
  if (!parentPort) throw new StrataError('INVALID_ARGUMENT', 'serveWorker runs only in a worker thread', {});
  const port = parentPort;
  const table = methods as unknown as Record<string, ((arg: unknown) => unknown) | undefined>;
  const waiting: Inbound[] = [];
  let busy = false;
  let closed = false;
  let idle: NodeJS.Timeout | undefined;

  const post = (m: Outbound, transfer?: readonly TransferListItem[]) =>
    port.postMessage(m, transfer?.length ? (transfer as TransferListItem[]) : undefined);
  const reply = (id: number, out: unknown) => {
    if (out instanceof Transfer) post({ kind: 'reply', id, value: out.value }, out.list);
    else post({ kind: 'reply', id, value: out });
  };
  const fail = (id: number, err: unknown) => post({ kind: 'fail', id, error: toWire(err) });

  /** Runs one message; a promise when it finishes later (a method that returned one, or the close hook). */
  function run(m: Inbound): Promise<void> | undefined {
    if (m.kind === 'close') {
      closed = true;
      return Promise.resolve()
        .then(options.onClose)
        .catch(() => undefined) // closing anyway: a failing close hook has no one to tell
        .finally(() => port.close());
    }
    const { id, method, arg } = m;
    try {
      const f = table[method];
      if (typeof f !== 'function' || !Object.hasOwn(table, method)) {
        throw new StrataError('UNSUPPORTED', `this worker has no method '${method}'`, { field: 'method' });
      }
      const out = f.call(methods, arg);
      if (!(out instanceof Promise)) {
        reply(id, out); // a synchronous method answers with no extra turn of the event loop
        return undefined;
      }
      return out.then(
        (v) => reply(id, v),
        (err) => fail(id, err),
      );
    } catch (err) {
      fail(id, err);
      return undefined;
    }
  }

  function drain(): void {
    for (let m = waiting.shift(); m; m = waiting.shift()) {
      const later = run(m);
      if (later) {
        busy = true;
        void later
          .catch(() => undefined)
          .finally(() => {
            busy = false;
            drain();
          });
        return;
      }
    }
    if (options.onIdle && !closed) idle = setTimeout(whenIdle, options.idleMs ?? 50);
  }
  const whenIdle = () => {
    idle = undefined;
    options.onIdle?.();
  };

  port.on('message', (m: Inbound) => {
    if (idle) clearTimeout(idle);
    idle = undefined;
    waiting.push(m);
    if (!busy) drain();
  });
  post({ kind: 'ready' });
}
