/**
 * `/push` on a fleet: for a `kind: stream` source the server checks each event (the push schema, a
 * timestamp, the key and id fields), routes it to its partition by the key's hash and publishes it
 * onto the source's stream; `strata stream` consumers own the window state. The request is all or
 * nothing at validation (a bad event → 400, nothing published); once published, events are durable.
 */
import { StrataError } from '../errors.js';
import { openStreamSource, type StreamSource, type StreamSourceOptions } from '../features/stream/contract.js';
import { StreamPartition } from '../features/stream/partition.js';
import type { Source } from '../features/types.js';
import type { OnlineRepo } from '../online/index.js';

export type { StreamSourceOptions };

export class StreamPublisher {
  readonly #sources = new Map<string, Source>();
  readonly #open = new Map<string, Promise<StreamSource>>();

  constructor(
    repo: OnlineRepo,
    readonly options: StreamSourceOptions,
  ) {
    const sources = (repo as { sources?: readonly Source[] }).sources ?? [];
    for (const s of sources) if (s.kind === 'stream' && s.stream) this.#sources.set(s.name, s);
  }

  handles(source: string): boolean {
    return this.#sources.has(source);
  }

  /** Validates every event, then publishes them all; returns how many were published. */
  async publish(sourceName: string, events: readonly Record<string, unknown>[]): Promise<number> {
    const source = this.#sources.get(sourceName)!;
    const out = events.map((event, i) => ({ event, ...StreamPartition.route(source, event, i) }));
    let p = this.#open.get(sourceName);
    if (!p) {
      p = openStreamSource(source.stream!, this.options);
      this.#open.set(sourceName, p);
      p.catch(() => this.#open.delete(sourceName));
    }
    const stream = await p.catch((err: unknown) => {
      throw new StrataError('UNAVAILABLE', `stream ${source.stream!.name} of source ${sourceName} is unreachable`, {
        key: sourceName,
        cause: err,
        hint: 'check the stream transport (redis-server / nats-server -js) and the server URL options',
      });
    });
    await stream.publish(out);
    return out.length;
  }

  async close(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    for (const p of all) await (await p.catch(() => undefined))?.close();
  }
}
