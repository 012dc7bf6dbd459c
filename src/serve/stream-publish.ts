/**
 * `/push` on a fleet: for a `kind: stream` source the server checks each event (the push schema, a
 * timestamp, the key and id fields), routes it to its partition by the key's hash and publishes it
 * onto the source's stream; `strata stream` consumers own the window state. The request is all or
 * nothing at validation (a bad event → 400, nothing published); once published, events are durable.
 */
import { StrataError } from '../errors.js';
import { openStreamSource, type StreamSource, type StreamSourceOptions } from '../features/stream/contract.js';
import { StreamCoordinator } from '../features/stream/coordinator.js';
import { StreamPartition } from '../features/stream/partition.js';
import type { Source } from '../features/definitions/types.js';
import type { OnlineRepo } from '../online/index.js';

export type { StreamSourceOptions };

/** How far a stream source's consumers are behind (see `StreamPublisher.lag`). */
export interface StreamLag {
  readonly source: string;
  readonly events: number;
  readonly seconds: number;
}

export class StreamPublisher {
  readonly #sources = new Map<string, Source>();
  readonly #open = new Map<string, Promise<StreamSource>>();
  readonly #views = new Map<string, string[]>();
  readonly #coordinators = new Map<string, Promise<StreamCoordinator>>();

  constructor(
    repo: OnlineRepo,
    readonly options: StreamSourceOptions,
  ) {
    const sources = (repo as { sources?: readonly Source[] }).sources ?? [];
    for (const s of sources) if (s.kind === 'stream' && s.stream) this.#sources.set(s.name, s);
    const views = (
      Array.isArray(repo.views)
        ? repo.views
        : repo.views instanceof Map
          ? [...repo.views.values()]
          : Object.values(repo.views)
    ) as { name?: string; source?: string }[];
    for (const v of views) {
      if (v.name && v.source && this.#sources.has(v.source))
        this.#views.set(v.source, [...(this.#views.get(v.source) ?? []), v.name]);
    }
  }

  /** Names of the views over a source. */
  views(source: string): string[] {
    return this.#views.get(source) ?? [];
  }

  handles(source: string): boolean {
    return this.#sources.has(source);
  }

  /** Validates every event, then publishes them all; returns how many were published. */
  async publish(sourceName: string, events: readonly Record<string, unknown>[]): Promise<number> {
    const source = this.#sources.get(sourceName)!;
    const out = events.map((event, i) => ({ event, ...StreamPartition.route(source, event, i) }));
    const stream = await this.#stream(source).catch((err: unknown) => {
      throw new StrataError('UNAVAILABLE', `stream ${source.stream!.name} of source ${sourceName} is unreachable`, {
        key: sourceName,
        cause: err,
        hint: 'check the stream transport (redis-server / nats-server -js) and the server URL options',
      });
    });
    await stream.publish(out);
    return out.length;
  }

  /**
   * Per stream source, how far its consumers are behind, from their last checkpoints: events published
   * but not yet applied, and the age of the newest applied event when any are pending (0 when caught up).
   * Sources whose transport cannot be reached are left out.
   */
  async lag(): Promise<StreamLag[]> {
    const out: StreamLag[] = [];
    for (const source of this.#sources.values()) {
      const cfg = source.stream!;
      try {
        const stream = await this.#stream(source);
        let pending = this.#coordinators.get(source.name);
        if (!pending) {
          pending = StreamCoordinator.open(cfg.name, `observer-${process.pid}`, this.options);
          this.#coordinators.set(source.name, pending);
          pending.catch(() => this.#coordinators.delete(source.name));
        }
        const coord = await pending;
        let events = 0;
        let seconds = 0;
        const now = Date.now();
        for (let p = 0; p < cfg.partitions; p++) {
          const cp = await coord.load(p);
          const behind = Math.max(0, (await stream.size(p)) - (cp?.read ?? 0));
          events += behind;
          if (behind > 0)
            seconds = Math.max(seconds, cp?.highWaterMarkMs != null ? (now - cp.highWaterMarkMs) / 1000 : Number.NaN);
        }
        out.push({ source: source.name, events, seconds });
      } catch {
        // unreachable transport or Redis: no lag figures for this source
      }
    }
    return out;
  }

  #stream(source: Source): Promise<StreamSource> {
    let p = this.#open.get(source.name);
    if (!p) {
      p = openStreamSource(source.stream!, this.options);
      this.#open.set(source.name, p);
      p.catch(() => this.#open.delete(source.name));
    }
    return p;
  }

  async close(): Promise<void> {
    const coords = [...this.#coordinators.values()];
    this.#coordinators.clear();
    for (const c of coords) await (await c.catch(() => undefined))?.close();
    const all = [...this.#open.values()];
    this.#open.clear();
    for (const p of all) await (await p.catch(() => undefined))?.close();
  }
}
