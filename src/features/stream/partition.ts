/**
 * One partition's window state: the push engine's tiles for the events routed to this partition, the
 * partition's stream offset, and the accepted events still inside the views' reach (the checkpoint).
 * A checkpoint is plain JSON: the offset and those events. Restoring replays them (in arrival order,
 * through the same engine) into a fresh state — the values equal the checkpointed state's, since the
 * engine drops everything older than the reach itself. Lifetime windows keep every event (their
 * checkpoints grow with the stream); plain views keep each entity's latest event.
 */
import { StrataError, isStrataError } from '../../errors.js';
import { toMs } from '../engine/build.js';
import { canonical } from '../engine/columns.js';
import { tupleKey } from '../engine/keys.js';
import { planView } from '../engine/plan.js';
import { coercePushEvent } from './push-values.js';
import { PushState } from './push.js';
import type { FeatureView, PushedViewValues, Source, StreamConfig } from '../definitions/types.js';
import type { StreamRecord } from './contract.js';
import { partitionOf } from './partitioning.js';
import type { CheckpointDelta } from './coordinator.js';

/** What is saved, atomically, per partition. */
export interface PartitionCheckpoint {
  readonly source: string;
  readonly partition: number;
  /** Offset of the last event applied; null before the first. */
  readonly offset: string | null;
  /** Events read from the stream up to `offset` (valid, invalid, late and duplicate alike). */
  readonly read: number;
  readonly invalid: number;
  readonly dropped: number;
  readonly duplicates: number;
  /** Newest accepted event time (ms); null before the first. */
  readonly highWaterMarkMs: number | null;
  /** Accepted events (as published) still within the views' reach, in arrival order. */
  readonly events: readonly Record<string, unknown>[];
}

interface Kept {
  readonly event: Record<string, unknown>;
  readonly ts: number;
}

export class StreamPartition {
  readonly config: StreamConfig;
  #state: PushState;
  #kept: Kept[] = [];
  #history: Record<string, unknown>[] = [];
  /** Leading `#kept` entries already in the saved checkpoint log; -1 = the log must be rewritten. */
  #logged = -1;
  offset: string | null = null;
  read = 0;
  invalid = 0;
  /** Event time of the newest accepted event (ms), -Infinity before the first. */
  get highWaterMarkMs(): number {
    return this.#state.hwm;
  }
  readonly #reachMs: number;

  constructor(
    readonly source: Source,
    readonly views: readonly FeatureView[],
    readonly partition: number,
    readonly pruneEveryEvents: number,
  ) {
    if (!source.stream)
      throw new StrataError('INVALID_ARGUMENT', `source ${source.name} is a ${source.kind} source, not a stream`, {
        key: source.name,
        hint: 'declare kind: stream with transport, stream, partitions and keyField',
      });
    this.config = source.stream;
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.config.partitions)
      throw new StrataError('INVALID_ARGUMENT', `source ${source.name} has no partition ${partition}`, {
        key: source.name,
        hint: `partitions are 0..${this.config.partitions - 1}`,
      });
    for (const v of views) {
      if (!v.entities.includes(this.config.keyField))
        throw new StrataError(
          'INVALID_ARGUMENT',
          `view ${v.name} over stream ${source.name} is not keyed by its keyField ${this.config.keyField}`,
          { key: v.name, field: 'keyField', hint: 'partition the stream by a join key every view over it has' },
        );
    }
    let reach = 0;
    for (const v of views) {
      if (v.kind !== 'aggregation') continue;
      const plan = planView(v);
      for (const w of plan.windows)
        reach = Math.max(
          reach,
          w.kind === 'hopping' ? w.sizeMs + w.hopMs! : w.kind === 'lifetime' ? Infinity : w.sizeMs,
        );
      reach += 2 * plan.tileMs;
    }
    this.#reachMs = reach;
    this.#state = this.#fresh();
  }

  #fresh(): PushState {
    return new PushState(this.source, this.views, this.pruneEveryEvents, false);
  }

  /**
   * The partition and id of an event about to be published, after coercion by the schema (as push
   * checks it); throws INVALID_ARGUMENT naming the event (`row`) and the field.
   */
  static route(source: Source, event: Record<string, unknown>, row: number): { partition: number; id: string } {
    const cfg = source.stream!;
    if (!event || typeof event !== 'object' || Array.isArray(event))
      throw new StrataError('INVALID_ARGUMENT', `push to ${source.name}: event ${row} is not an object`, { row });
    const e = coercePushEvent(source, event, row);
    if (!Number.isFinite(toMs(e[source.timestampField])))
      throw new StrataError(
        'INVALID_ARGUMENT',
        `push to ${source.name}: event ${row} has no valid ${source.timestampField}`,
        {
          row,
          field: source.timestampField,
          hint: 'give epoch milliseconds or an ISO string',
        },
      );
    for (const f of [cfg.keyField, source.idField!]) {
      if (e[f] === null || e[f] === undefined)
        throw new StrataError('INVALID_ARGUMENT', `push to ${source.name}: event ${row} has no ${f}`, {
          row,
          field: f,
        });
    }
    return { partition: partitionOf(e[cfg.keyField], cfg.partitions), id: String(canonical(e[source.idField!])) };
  }

  /** Seeds the batch history (rows of this partition only); call before the first `apply` or `restore`. */
  seedHistory(rows: readonly Record<string, unknown>[]): void {
    this.#history = rows.filter((r, i) => {
      try {
        return (
          partitionOf(coercePushEvent(this.source, r, i)[this.config.keyField], this.config.partitions) ===
          this.partition
        );
      } catch {
        return false;
      }
    });
    this.#state.seed(this.#history);
  }

  /**
   * Applies records read from the stream (in order); returns the touched entities' new values per view.
   * An event that fails the schema is counted in `invalid` and skipped, never applied half-way.
   */
  apply(records: readonly StreamRecord[]): PushedViewValues[] {
    if (!records.length) return [];
    const events = records.map((r) => r.event);
    let out: PushedViewValues[];
    try {
      out = this.#state.push(events, (i, ts) => this.#kept.push({ event: events[i], ts }));
    } catch (err) {
      if (!isStrataError(err, 'INVALID_ARGUMENT')) throw err;
      out = [];
      for (const e of events) {
        try {
          out.push(...this.#state.push([e], (_i, ts) => this.#kept.push({ event: e, ts })));
        } catch (inner) {
          if (!isStrataError(inner, 'INVALID_ARGUMENT')) throw inner;
          this.invalid++;
        }
      }
    }
    this.offset = records[records.length - 1].offset;
    this.read += records.length;
    return out;
  }

  /** The checkpoint of the state as it is now (accepted events outside the reach are dropped from it). */
  checkpoint(): PartitionCheckpoint {
    this.#prune(false);
    return { ...this.#header(), events: this.#kept.map((k) => k.event) };
  }

  /**
   * The checkpoint as a delta over the last saved one (`markLogged` after it is saved): the header and
   * the events accepted since. Events out of the reach are pruned (and the log rewritten) only once
   * they are half of the kept ones, so a checkpoint costs what changed, not the whole state.
   */
  checkpointDelta(): CheckpointDelta {
    this.#prune(true);
    const from = this.#logged;
    const total = this.#kept.length;
    const events: Record<string, unknown>[] = [];
    for (let i = Math.max(0, from); i < total; i++) events.push(this.#kept[i].event);
    return { checkpoint: { ...this.#header(), events: [] }, from, events };
  }

  /** The delta's events are saved: the log now holds the first `from + events` kept events. */
  markLogged(d: CheckpointDelta): void {
    this.#logged = Math.max(0, d.from) + d.events.length;
  }

  /** Forgets what the log holds: the next delta rewrites it. */
  unmarkLogged(): void {
    this.#logged = -1;
  }

  #header(): Omit<PartitionCheckpoint, 'events'> {
    return {
      source: this.source.name,
      partition: this.partition,
      offset: this.offset,
      read: this.read,
      invalid: this.invalid,
      dropped: this.#state.dropped,
      duplicates: this.#state.duplicates,
      highWaterMarkMs: Number.isFinite(this.#state.hwm) ? this.#state.hwm : null,
    };
  }

  /** Replaces the state by a checkpoint's (history seeded first, as when it was taken). */
  restore(cp: PartitionCheckpoint): void {
    if (cp.source !== this.source.name || cp.partition !== this.partition)
      throw new StrataError(
        'CORRUPT',
        `checkpoint of ${cp.source}/${cp.partition} given to partition ${this.source.name}/${this.partition}`,
        { key: `${this.source.name}/${this.partition}` },
      );
    this.#state = this.#fresh();
    if (this.#history.length) this.#state.seed(this.#history);
    // coerced as push coerces (`'7'` and `7` are one entity), then replayed in arrival order
    this.#state.seed(cp.events.map((e, i) => coercePushEvent(this.source, e, i)));
    this.#state.dropped = cp.dropped;
    this.#state.duplicates = cp.duplicates;
    const ts = this.source.timestampField;
    this.#kept = cp.events.map((event) => ({ event, ts: toMs(event[ts]) }));
    this.#logged = -1;
    this.offset = cp.offset;
    this.read = cp.read;
    this.invalid = cp.invalid;
  }

  /** Drops kept events out of the reach; `lazy`: only once they are at least half of the kept ones. */
  #prune(lazy: boolean): void {
    if (this.#reachMs === Infinity || !this.#kept.length) return;
    const cut = this.#state.hwm - this.source.allowedLatenessMs - this.#reachMs;
    let old = 0;
    for (const k of this.#kept) if (k.ts < cut) old++;
    if (!old || (lazy && old * 2 < this.#kept.length)) return;
    const plain = this.views.filter((v) => v.kind === 'plain');
    // plain views: an entity's latest event (later arrival wins a tie, as in the engine) stays
    const latest = new Map<unknown, number>();
    if (plain.length) {
      this.#kept.forEach((k, i) => {
        const e = coercePushEvent(this.source, k.event, i);
        for (const v of plain) {
          const id = `${v.name}\u0000${String(tupleKey(v.entities.map((c) => canonical(e[c]))))}`;
          const j = latest.get(id);
          if (j === undefined || this.#kept[j].ts <= k.ts) latest.set(id, i);
        }
      });
    }
    const keep = new Set(latest.values());
    const before = this.#kept.length;
    this.#kept = this.#kept.filter((k, i) => k.ts >= cut || keep.has(i));
    if (this.#kept.length !== before) this.#logged = -1;
  }
}
