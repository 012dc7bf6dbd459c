/**
 * Partition ownership and checkpoints in Redis, for every transport. Keys (prefix `strata-stream:<stream>`):
 *   `:members`        sorted set: consumer id → expiry (Redis server time, ms); heartbeats extend it
 *   `:lease:<p>`      the owner's consumer id, `SET NX PX leaseMs`, renewed by the owner only
 *   `:ckpt:<p>`       the partition's checkpoint header (JSON: offset + counters; `events` empty when logged)
 *   `:ckpt:<p>:log`   its kept events, a list of JSON chunks appended per checkpoint (rewritten after pruning)
 *   `:ckpt:<p>:n`     how many events the log holds (an append names the count it extends; a mismatch is refused)
 * A checkpoint is written by a script that first checks the lease is still the writer's (a fenced
 * write): a consumer that lost its partition cannot overwrite the new owner's checkpoint.
 * Fair share: with n live members sorted by id, the member of rank r owns ⌊P/n⌋ (+1 when r < P mod n).
 */
import { Redis } from 'ioredis';
import { StrataError } from '../../errors.js';
import type { PartitionCheckpoint } from './partition.js';

const HEARTBEAT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;
const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
const SAVE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3], KEYS[4])
return 1
`;
/** Header + appended chunk in one fenced script: ARGV = owner, header, from (-1 = rewrite), chunk, total. */
const SAVE_LOG_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local from = tonumber(ARGV[3])
if from < 0 then
  redis.call('DEL', KEYS[3])
elseif tonumber(redis.call('GET', KEYS[4]) or '-1') ~= from then
  return -1
end
if ARGV[4] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[4]) end
redis.call('SET', KEYS[4], ARGV[5])
redis.call('SET', KEYS[2], ARGV[2])
return 1
`;

/** A checkpoint written as a header plus the events appended since the previous one. */
export interface CheckpointDelta {
  /** The header (its `events` empty). */
  readonly checkpoint: PartitionCheckpoint;
  /** Events already in the log this delta extends; -1 rewrites the log with `events`. */
  readonly from: number;
  readonly events: readonly Record<string, unknown>[];
}

export interface CoordinatorOptions {
  /** Redis URL. Default `redis://127.0.0.1:6379`. */
  readonly redisUrl?: string;
  /** How long a lease (and a membership) lasts without renewal. Default 5000. */
  readonly leaseMs?: number;
}

export class StreamCoordinator {
  readonly leaseMs: number;
  readonly #prefix: string;
  #closed = false;

  private constructor(
    readonly client: Redis,
    stream: string,
    readonly consumerId: string,
    leaseMs: number,
  ) {
    this.#prefix = `strata-stream:${stream}`;
    this.leaseMs = leaseMs;
  }

  static async open(stream: string, consumerId: string, options: CoordinatorOptions = {}): Promise<StreamCoordinator> {
    const url = options.redisUrl ?? 'redis://127.0.0.1:6379';
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw new StrataError('UNAVAILABLE', `stream coordination: cannot connect to Redis at ${url}`, {
        cause: err,
        hint: 'stream consumers keep leases and checkpoints in Redis: pass --redis-url',
      });
    }
    return new StreamCoordinator(client, stream, consumerId, options.leaseMs ?? 5000);
  }

  /** Extends this consumer's membership; returns the live members, sorted. */
  async heartbeat(): Promise<string[]> {
    const ids = (await this.client.eval(
      HEARTBEAT_LUA,
      1,
      `${this.#prefix}:members`,
      this.consumerId,
      this.leaseMs,
    )) as string[];
    return ids.sort();
  }

  /** How many partitions this consumer should own among `members`. */
  fairShare(members: readonly string[], partitions: number): number {
    const n = Math.max(1, members.length);
    const rank = Math.max(0, members.indexOf(this.consumerId));
    return Math.floor(partitions / n) + (rank < partitions % n ? 1 : 0);
  }

  async acquire(partition: number): Promise<boolean> {
    const r = await this.client.set(this.#lease(partition), this.consumerId, 'PX', this.leaseMs, 'NX');
    return r === 'OK';
  }

  /** Extends the lease; false when this consumer no longer holds it. */
  async renew(partition: number): Promise<boolean> {
    return (await this.client.eval(RENEW_LUA, 1, this.#lease(partition), this.consumerId, this.leaseMs)) === 1;
  }

  async release(partition: number): Promise<void> {
    await this.client.eval(RELEASE_LUA, 1, this.#lease(partition), this.consumerId);
  }

  async owner(partition: number): Promise<string | null> {
    return this.client.get(this.#lease(partition));
  }

  /** Saves a checkpoint if this consumer still holds the partition's lease; false otherwise. */
  async save(cp: PartitionCheckpoint): Promise<boolean> {
    const r = await this.client.eval(
      SAVE_LUA,
      4,
      this.#lease(cp.partition),
      `${this.#prefix}:ckpt:${cp.partition}`,
      `${this.#prefix}:ckpt:${cp.partition}:log`,
      `${this.#prefix}:ckpt:${cp.partition}:n`,
      this.consumerId,
      JSON.stringify(cp),
    );
    return r === 1;
  }

  /**
   * Saves a checkpoint delta (header + new events, one fenced script): 'saved', 'lost' (the lease is
   * another consumer's) or 'stale' (the log does not hold `from` events: save the whole state instead).
   */
  async saveDelta(d: CheckpointDelta): Promise<'saved' | 'lost' | 'stale'> {
    const key = `${this.#prefix}:ckpt:${d.checkpoint.partition}`;
    const r = await this.client.eval(
      SAVE_LOG_LUA,
      4,
      this.#lease(d.checkpoint.partition),
      key,
      `${key}:log`,
      `${key}:n`,
      this.consumerId,
      JSON.stringify(d.checkpoint),
      d.from,
      d.events.length ? JSON.stringify(d.events) : '',
      Math.max(0, d.from) + d.events.length,
    );
    return r === 1 ? 'saved' : r === -1 ? 'stale' : 'lost';
  }

  async load(partition: number): Promise<PartitionCheckpoint | null> {
    const key = `${this.#prefix}:ckpt:${partition}`;
    const [[, text], [, chunks]] = (await this.client.multi().get(key).lrange(`${key}:log`, 0, -1).exec()) as [
      [unknown, string | null],
      [unknown, string[]],
    ];
    if (text === null) return null;
    try {
      const cp = JSON.parse(text) as PartitionCheckpoint;
      if (!chunks.length) return cp;
      const events = [...cp.events];
      for (const c of chunks) for (const e of JSON.parse(c) as Record<string, unknown>[]) events.push(e);
      return { ...cp, events };
    } catch (err) {
      throw new StrataError('CORRUPT', `checkpoint of partition ${partition} is not JSON`, {
        key: `${this.#prefix}:ckpt:${partition}`,
        cause: err,
        hint: 'delete the key to rebuild the partition from the start of the stream',
      });
    }
  }

  /** Leaves the member set (partitions already released). Idempotent; closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.zrem(`${this.#prefix}:members`, this.consumerId).catch(() => undefined);
    await this.client.quit().catch(() => this.client.disconnect());
  }

  #lease(partition: number): string {
    return `${this.#prefix}:lease:${partition}`;
  }
}
