/**
 * Redis Streams transport: partition p is the stream `<name>:<p>` (entries with one field `e`, the
 * event's JSON). Publishes are one pipeline of XADDs; a reader is XREAD from its offset (an entry id).
 * Every partition stream has the consumer group `strata`; consumers record their checkpointed offset
 * on it (`commit`), so `XINFO GROUPS` shows each partition's committed position and lag.
 */
import { Redis } from 'ioredis';
import { StrataError } from '../../errors.js';
import type { StreamConfig } from '../definitions/types.js';
import type { PartitionReader, StreamPublish, StreamRecord, StreamSource, StreamSourceOptions } from './contract.js';

export const REDIS_STREAM_GROUP = 'strata';

function unavailable(what: string, err: unknown): StrataError {
  return new StrataError('UNAVAILABLE', `Redis stream ${what} failed: ${(err as Error).message}`, {
    cause: err,
    hint: 'check that redis-server is running and the URL is right',
  });
}

export class RedisStreamSource implements StreamSource {
  #closed = false;
  private constructor(
    readonly config: StreamConfig,
    readonly client: Redis,
  ) {}

  static async open(config: StreamConfig, options: StreamSourceOptions = {}): Promise<RedisStreamSource> {
    const client = new Redis(options.redisUrl ?? 'redis://127.0.0.1:6379', {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      retryStrategy: (n) => Math.min(50 * n, 500),
    });
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw unavailable(`connection to ${options.redisUrl ?? 'redis://127.0.0.1:6379'}`, err);
    }
    return new RedisStreamSource(config, client);
  }

  key(partition: number): string {
    return `${this.config.name}:${partition}`;
  }

  async publish(events: readonly StreamPublish[]): Promise<void> {
    if (!events.length) return;
    const p = this.client.pipeline();
    for (const e of events) p.xadd(this.key(e.partition), '*', 'e', JSON.stringify(e.event));
    const res = await p.exec().catch((err: unknown) => {
      throw unavailable('publish', err);
    });
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw unavailable('publish', failed?.[0] ?? new Error('no reply'));
  }

  async reader(partition: number, afterOffset: string | null): Promise<PartitionReader> {
    const key = this.key(partition);
    await this.client.xgroup('CREATE', key, REDIS_STREAM_GROUP, '0', 'MKSTREAM').catch((err: Error) => {
      if (!/BUSYGROUP/.test(err.message)) throw unavailable(`group on ${key}`, err);
    });
    let last = afterOffset ?? '0';
    const client = this.client;
    return {
      async next(maxEvents: number): Promise<StreamRecord[]> {
        let res: [string, [string, string[]][]][] | null;
        try {
          res = await client.xread('COUNT', maxEvents, 'STREAMS', key, last);
        } catch (err) {
          throw unavailable(`read of ${key}`, err);
        }
        if (!res) return [];
        const out: StreamRecord[] = [];
        for (const [id, fields] of res[0][1]) {
          last = id;
          const i = fields.indexOf('e');
          let event: Record<string, unknown>;
          try {
            event = JSON.parse(fields[i + 1]) as Record<string, unknown>;
          } catch {
            event = {}; // not JSON: the consumer rejects it as an invalid event
          }
          out.push({ partition, offset: id, event });
        }
        return out;
      },
      close: () => Promise.resolve(),
    };
  }

  /** Records `offset` as the group's delivered position (observability: `XINFO GROUPS <name>:<p>`). */
  async commit(partition: number, offset: string): Promise<void> {
    await this.client.xgroup('SETID', this.key(partition), REDIS_STREAM_GROUP, offset).catch(() => undefined);
  }

  async size(partition: number): Promise<number> {
    return this.client.xlen(this.key(partition));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
