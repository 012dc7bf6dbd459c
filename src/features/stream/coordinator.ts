/**
 * Partition ownership and checkpoints in Redis, for every transport. Keys (prefix `strata-stream:<stream>`):
 *   `:members`        sorted set: consumer id → expiry (Redis server time, ms); heartbeats extend it
 *   `:lease:<p>`      the owner's consumer id, `SET NX PX leaseMs`, renewed by the owner only
 *   `:ckpt:<p>`       the partition's checkpoint (JSON: offset + window state), one key
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
return 1
`;

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
      2,
      this.#lease(cp.partition),
      `${this.#prefix}:ckpt:${cp.partition}`,
      this.consumerId,
      JSON.stringify(cp),
    );
    return r === 1;
  }

  async load(partition: number): Promise<PartitionCheckpoint | null> {
    const text = await this.client.get(`${this.#prefix}:ckpt:${partition}`);
    if (text === null) return null;
    try {
      return JSON.parse(text) as PartitionCheckpoint;
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
