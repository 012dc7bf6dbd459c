/**
 * The `StreamSource` contract every transport implements (Redis Streams, NATS JetStream): events are
 * published to one of P partitions; a partition is read in order from just after a given offset.
 * Offsets are opaque strings, increasing within a partition (a Redis stream entry id, a JetStream
 * sequence number). Events travel as JSON objects exactly as they were pushed (the consumer coerces
 * them by the source's schema, as `/push` does).
 */
import type { StreamConfig } from '../definitions/types.js';

/** One event read from a partition. */
export interface StreamRecord {
  readonly partition: number;
  readonly offset: string;
  readonly event: Record<string, unknown>;
}

/** An event to publish and the partition it goes to (see partitioning.ts). */
export interface StreamPublish {
  readonly partition: number;
  readonly event: Record<string, unknown>;
  /** The event id (the source's `idField`): transports that deduplicate publishes use it. */
  readonly id: string;
}

/** Reads one partition in order. */
export interface PartitionReader {
  /** Up to `maxEvents` records after the last one returned (or after the start offset); [] when none yet. */
  next(maxEvents: number): Promise<StreamRecord[]>;
  close(): Promise<void>;
}

export interface StreamSource {
  readonly config: StreamConfig;
  /** Publishes events; resolves once the transport has stored every one of them. */
  publish(events: readonly StreamPublish[]): Promise<void>;
  /** A reader of `partition` starting just after `afterOffset` (null: from the beginning). */
  reader(partition: number, afterOffset: string | null): Promise<PartitionReader>;
  /** How many events the partition holds in total (for lag: total minus events applied). */
  size(partition: number): Promise<number>;
  close(): Promise<void>;
}

export interface StreamSourceOptions {
  /** Redis URL (transport `redis`). Default `redis://127.0.0.1:6379`. */
  readonly redisUrl?: string;
  /** NATS server URL(s) (transport `jetstream`), e.g. `nats://127.0.0.1:4222`. */
  readonly natsUrl?: string;
}

/** Connects to a stream source's transport (the client library is loaded only when used). */
export async function openStreamSource(config: StreamConfig, options: StreamSourceOptions = {}): Promise<StreamSource> {
  if (config.transport === 'redis') {
    const { RedisStreamSource } = await import('./redis-streams.js');
    return RedisStreamSource.open(config, options);
  }
  const { JetStreamSource } = await import('./jetstream.js');
  return JetStreamSource.open(config, options);
}
