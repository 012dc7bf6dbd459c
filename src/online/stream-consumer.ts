/**
 * A stream consumer: owns a fair share of a `kind: stream` source's partitions (leases in Redis, see
 * features/stream/coordinator.ts), applies each owned partition's events to its window state in order,
 * writes the touched entities' values online (the same path as `/push`), and checkpoints every owned
 * partition (state + offset, one fenced Redis write) every `checkpointIntervalMs` and when it lets a
 * partition go. A partition taken over after a crash resumes from its checkpoint and replays only the
 * events after the checkpoint's offset; replayed events give the same values (effectively-once).
 * Any number of consumers may run; they rebalance when one joins, leaves or dies (within `leaseMs`).
 */
import { StrataError } from '../errors.js';
import type { FeatureRepo } from '../features/repo.js';
import { openStreamSource, type PartitionReader, type StreamSource } from '../features/stream/contract.js';
import { StreamCoordinator } from '../features/stream/coordinator.js';
import type { StreamPartition } from '../features/stream/partition.js';
import { writePushed } from './push.js';
import type { OnlineStore } from './store.js';
import type { PushedBatch } from './types.js';

export interface StreamConsumerOptions {
  /** The stream source to consume. Default: the repo's only `kind: stream` source. */
  readonly source?: string;
  /** Unique id of this consumer. Default `<hostname>-<pid>`-like: `consumer-<pid>-<random>`. */
  readonly consumerId?: string;
  /** Redis URL for leases and checkpoints (and the `redis` transport). Default `redis://127.0.0.1:6379`. */
  readonly redisUrl?: string;
  /** NATS URL for the `jetstream` transport. Default `nats://127.0.0.1:4222`. */
  readonly natsUrl?: string;
  /** Lease length: a dead consumer's partitions move within it. Default 5000. */
  readonly leaseMs?: number;
  /** Checkpoint interval per owned partition. Default 1000. */
  readonly checkpointIntervalMs?: number;
  /** Events read per partition per step. Default 1000. */
  readonly batchEvents?: number;
  /** Stops the consumer (as `close()` does). */
  readonly signal?: AbortSignal;
  /** Partition acquired / released / lost, for logs. */
  readonly onEvent?: (e: StreamConsumerEvent) => void;
}

export type StreamConsumerEvent =
  | { readonly type: 'acquired'; readonly partition: number; readonly offset: string | null; readonly events: number }
  | { readonly type: 'released'; readonly partition: number; readonly offset: string | null }
  | { readonly type: 'lost'; readonly partition: number }
  /** A step failed (Redis, the stream or the online store); the consumer retries by itself. */
  | { readonly type: 'error'; readonly error: unknown };

/** Per-partition position of this consumer, for `/metrics` and tests. */
export interface StreamPartitionStats {
  readonly partition: number;
  readonly offset: string | null;
  /** Events read from the partition (since its start, carried in checkpoints). */
  readonly read: number;
  /** Events the partition holds that this consumer has not read yet. */
  readonly behind: number;
  /** Wall-clock time minus the newest event time applied (ms); NaN before the first event. */
  readonly behindMs: number;
}

interface Owned {
  readonly state: StreamPartition;
  readonly reader: PartitionReader;
}

export class StreamConsumer implements AsyncDisposable {
  readonly consumerId: string;
  readonly source: string;
  /** Events applied by this process (replays after a takeover included). */
  applied = 0;
  readonly #owned = new Map<number, Owned>();
  /** Partitions acquired and being restored (their leases are renewed too). */
  readonly #taking = new Set<number>();
  /** Owned partitions whose lease the renewer found gone: dropped before their next step. */
  readonly #lost = new Set<number>();
  #renewing: Promise<void> | null = null;
  /** The last step's online write, in flight while the next step is applied. */
  #inFlight: { readonly write: Promise<unknown>; readonly partitions: number[]; readonly events: number } | null = null;
  /** When the leases were last renewed (by the tick or the renewer). */
  #renewedAt = Date.now();
  #stopped = false;
  readonly #done: Promise<void>;

  private constructor(
    readonly repo: FeatureRepo,
    readonly store: OnlineStore,
    readonly stream: StreamSource,
    readonly coordinator: StreamCoordinator,
    readonly options: StreamConsumerOptions,
    source: string,
  ) {
    this.consumerId = coordinator.consumerId;
    this.source = source;
    this.#done = this.#run();
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  static async start(
    repo: FeatureRepo,
    store: OnlineStore,
    options: StreamConsumerOptions = {},
  ): Promise<StreamConsumer> {
    const streams = repo.sources.filter((s) => s.kind === 'stream');
    const source = options.source ? repo.source(options.source) : streams[0];
    if (!source?.stream || (!options.source && streams.length !== 1))
      throw new StrataError(
        'INVALID_ARGUMENT',
        options.source
          ? `source ${options.source} is not a stream source`
          : `the repo has ${streams.length} stream sources; name the one to consume`,
        {
          key: options.source ?? '',
          field: 'source',
          hint: `stream sources: ${streams.map((s) => s.name).join(', ') || 'none'}`,
        },
      );
    repo.streamPartition(source.name, 0); // checks the views are keyed by the stream's keyField
    const id = options.consumerId ?? `consumer-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const coordinator = await StreamCoordinator.open(source.stream.name, id, options);
    let stream: StreamSource;
    try {
      // join the member set before connecting to the stream: consumers started together see each other
      // at their first rebalance, instead of one taking every partition and handing half over
      await coordinator.heartbeat();
      stream = await openStreamSource(source.stream, options);
    } catch (err) {
      await coordinator.close();
      throw err;
    }
    return new StreamConsumer(repo, store, stream, coordinator, options, source.name);
  }

  /** Partitions this consumer owns now, sorted. */
  get partitions(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  /**
   * Events read per owned partition (since the partition's start, carried in checkpoints), without
   * asking the stream: cheap to poll. Unlike `applied`, a replay after a takeover does not add to it.
   */
  get readByPartition(): ReadonlyMap<number, number> {
    return new Map([...this.#owned].map(([p, o]) => [p, o.state.read]));
  }

  async stats(): Promise<StreamPartitionStats[]> {
    const now = Date.now();
    const out: StreamPartitionStats[] = [];
    for (const p of this.partitions) {
      const { state } = this.#owned.get(p)!;
      const size = await this.stream.size(p);
      const hwm = state.highWaterMarkMs;
      out.push({
        partition: p,
        offset: state.offset,
        read: state.read,
        behind: Math.max(0, size - state.read),
        behindMs: Number.isFinite(hwm) ? now - hwm : Number.NaN,
      });
    }
    return out;
  }

  async #run(): Promise<void> {
    const leaseMs = this.coordinator.leaseMs;
    const tickMs = Math.max(50, Math.floor(leaseMs / 4));
    // Leases and membership are renewed on a timer too, not only between steps: a slow restore, a
    // slow online write or a backlog must not let them expire while this consumer still works on them.
    const renewer = setInterval(() => {
      this.#renewing ??= this.#renew()
        .catch(() => undefined)
        .finally(() => (this.#renewing = null));
    }, tickMs);
    try {
      await this.#loop(tickMs, leaseMs);
    } finally {
      clearInterval(renewer);
      await this.#renewing;
    }
  }

  async #loop(tickMs: number, leaseMs: number): Promise<void> {
    const ckptMs = this.options.checkpointIntervalMs ?? 1000;
    const batch = this.options.batchEvents ?? 1000;
    let nextTick = 0;
    let nextCkpt = Date.now() + ckptMs;
    while (!this.#stopped) {
      const now = Date.now();
      try {
        // checkpoints (also on letting a partition go) cover only events whose online write completed
        if (now >= nextTick || now >= nextCkpt) await this.#settle();
        if (now >= nextTick) {
          await this.#tick();
          nextTick = Date.now() + tickMs;
        }
        if (now >= nextCkpt) {
          await this.#checkpointAll();
          nextCkpt = Date.now() + ckptMs;
        }
      } catch (error) {
        this.options.onEvent?.({ type: 'error', error });
        // Redis unreachable: stop applying once our leases may have expired (another owner may take over)
        if (Date.now() - this.#renewedAt > leaseMs / 2) await this.#dropAll();
        await sleep(tickMs);
        continue;
      }
      // One step: a batch from every owned partition, applied in order per partition, then one online
      // write for all of them (partitions never share an entity, so the rows are disjoint).
      let n = 0;
      const stepped: [number, PushedBatch[], number][] = [];
      for (const p of this.#lost) await this.#drop(p, 'lost');
      this.#lost.clear();
      for (const [p, owned] of this.#owned) {
        // every owned partition gets its batch each step (leases are renewed by the timer meanwhile;
        // breaking off at the tick made the partitions iterated last wait for the first ones to drain)
        if (this.#stopped) break;
        try {
          const records = await owned.reader.next(batch);
          if (!records.length) continue;
          n += records.length;
          stepped.push([p, owned.state.apply(records), records.length]);
        } catch (error) {
          await this.#fail(error, [p]);
          break;
        }
      }
      // the previous step's write has been in flight while this step was applied; writes stay in order
      await this.#settle();
      const live = stepped.filter(([p]) => this.#owned.has(p)); // a failed write gave its partitions up
      const updates = live.flatMap(([, u]) => u);
      const events = live.reduce((a, [, , k]) => a + k, 0);
      if (updates.length) {
        const write = writePushed(this.repo, this.store, updates);
        write.catch(() => undefined); // handled in #settle
        this.#inFlight = { write, partitions: live.map(([p]) => p), events };
      } else this.applied += events;
      if (!n) await sleep(10);
    }
    await this.#settle();
  }

  /** Waits for the in-flight online write; when it failed, its partitions are given up (see #fail). */
  async #settle(): Promise<void> {
    const f = this.#inFlight;
    if (!f) return;
    this.#inFlight = null;
    try {
      await f.write;
      this.applied += f.events;
    } catch (error) {
      await this.#fail(error, f.partitions);
    }
  }

  /**
   * The online store or the stream failed mid-step: give the partitions up; they are taken again
   * from their checkpoints (their batches replay, same values).
   */
  async #fail(error: unknown, partitions: readonly number[]): Promise<void> {
    this.options.onEvent?.({ type: 'error', error });
    for (const p of partitions) {
      await this.#drop(p, 'lost');
      await this.coordinator.release(p).catch(() => undefined);
    }
  }

  /** Heartbeat and renew every held lease (owned or being restored); a lease found gone is marked lost. */
  async #renew(): Promise<void> {
    await this.coordinator.heartbeat();
    const held = [...this.#owned.keys(), ...this.#taking];
    const ok = await Promise.all(held.map((p) => this.coordinator.renew(p)));
    for (let i = 0; i < held.length; i++) if (!ok[i]) this.#lost.add(held[i]);
    this.#renewedAt = Date.now();
  }

  /** Heartbeat, renew, release what is over the fair share, acquire free partitions up to it. */
  async #tick(): Promise<void> {
    const members = await this.coordinator.heartbeat();
    const total = this.stream.config.partitions;
    const held = [...this.#owned.keys()];
    const renewed = await Promise.all(held.map((p) => this.coordinator.renew(p)));
    for (let i = 0; i < held.length; i++) {
      if (renewed[i]) this.#lost.delete(held[i]);
      else await this.#drop(held[i], 'lost');
    }
    this.#renewedAt = Date.now();
    const share = this.coordinator.fairShare(members, total);
    const owned = this.partitions;
    for (const p of owned.slice(share).reverse()) await this.#letGo(p);
    const taking: Promise<void>[] = [];
    for (let p = 0; p < total && this.#owned.size + taking.length < share; p++) {
      if (this.#owned.has(p)) continue;
      if (await this.coordinator.acquire(p)) {
        this.#taking.add(p);
        taking.push(this.#take(p).finally(() => this.#taking.delete(p)));
      }
    }
    // restore and open readers of newly acquired partitions together (a takeover waits for the slowest only)
    const took = await Promise.allSettled(taking);
    const failed = took.find((r) => r.status === 'rejected');
    if (failed?.status === 'rejected') throw failed.reason;
  }

  async #take(p: number): Promise<void> {
    const state = this.repo.streamPartition(this.source, p);
    state.seedHistory(await this.repo.streamHistory(this.source));
    const cp = await this.coordinator.load(p);
    if (cp) state.restore(cp);
    const reader = await this.stream.reader(p, state.offset);
    this.#owned.set(p, { state, reader });
    this.options.onEvent?.({ type: 'acquired', partition: p, offset: state.offset, events: cp?.events.length ?? 0 });
  }

  /** Checkpoints, then releases the lease. */
  async #letGo(p: number): Promise<void> {
    const owned = this.#owned.get(p);
    if (!owned) return;
    await this.#save(p, owned);
    this.#owned.delete(p);
    await owned.reader.close();
    await this.coordinator.release(p);
    this.options.onEvent?.({ type: 'released', partition: p, offset: owned.state.offset });
  }

  async #drop(p: number, why: 'lost'): Promise<void> {
    const owned = this.#owned.get(p);
    this.#lost.delete(p);
    if (!owned) return;
    this.#owned.delete(p);
    await owned.reader.close().catch(() => undefined);
    this.options.onEvent?.({ type: why, partition: p });
  }

  async #dropAll(): Promise<void> {
    for (const p of [...this.#owned.keys()]) await this.#drop(p, 'lost');
  }

  async #save(p: number, owned: Owned): Promise<void> {
    let d = owned.state.checkpointDelta();
    let r = await this.coordinator.saveDelta(d).catch((err: unknown) => {
      owned.state.unmarkLogged(); // it may or may not have been written: rewrite next time
      throw err;
    });
    if (r === 'stale') {
      owned.state.unmarkLogged();
      d = owned.state.checkpointDelta();
      r = await this.coordinator.saveDelta(d);
    }
    if (r !== 'saved') {
      await this.#drop(p, 'lost');
      return;
    }
    owned.state.markLogged(d);
    const cp = d.checkpoint;
    const commit = (this.stream as { commit?: (p: number, o: string) => Promise<void> }).commit;
    if (cp.offset !== null && commit) await commit.call(this.stream, p, cp.offset);
  }

  /** Every owned partition's checkpoint, written together (one key each; a refused one drops only its partition). */
  async #checkpointAll(): Promise<void> {
    await Promise.all([...this.#owned].map(([p, owned]) => this.#save(p, owned)));
  }

  /** Stops reading, checkpoints and releases every owned partition, leaves the group. Idempotent. */
  async close(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      await this.#done.catch(() => undefined);
      for (const p of this.partitions) await this.#letGo(p).catch(() => this.#drop(p, 'lost'));
      await this.stream.close();
      await this.coordinator.close();
    }
    await this.#done.catch(() => undefined);
  }

  /** Resolves when the consumer stops (rejects if its loop failed). */
  get done(): Promise<void> {
    return this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
