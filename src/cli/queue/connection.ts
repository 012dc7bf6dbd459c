/** The Redis connection of a work queue (`--queue redis://host:port`) and the queue's name. */
import { Redis } from 'ioredis';
import { UsageError, str, type CommandContext } from '../command.js';
import { DEFAULT_QUEUE_NAME } from './task.js';

export interface QueueTarget {
  readonly url: string;
  readonly name: string;
}

/** `--queue` (required here) and `--queue-name`. */
export function queueTarget(ctx: CommandContext, command: string): QueueTarget {
  const url = str(ctx, 'queue');
  if (url === undefined || url === '')
    throw new UsageError(`strata ${command}: --queue redis://host:port is required`, command);
  if (!/^rediss?:\/\//.test(url))
    throw new UsageError(
      `strata ${command}: --queue must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`,
      command,
    );
  return { url, name: str(ctx, 'queue-name') ?? DEFAULT_QUEUE_NAME };
}

/** A connection as BullMQ workers need it (no per-request retry limit: blocking commands wait). */
export function connect(target: QueueTarget): Redis {
  return new Redis(target.url, { maxRetriesPerRequest: null, lazyConnect: false });
}
