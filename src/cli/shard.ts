import type { CommandContext, OptionSpec } from './command.js';
import { integerAtLeast, str } from './command.js';
import { resolveShard, type Shard } from '../shard.js';

/** `--shard i/n` and `--shards N`, shared by the commands that run as shards (embed, ingest, materialize). */
export const SHARD_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  shard: {
    type: 'string',
    value: 'I/N',
    description:
      'run shard I of N (0-based); default from JOB_COMPLETION_INDEX (Kubernetes Indexed Job, with --shards) or AWS_BATCH_JOB_ARRAY_INDEX/SIZE',
  },
  shards: {
    type: 'string',
    value: 'N',
    description:
      'shard count of a Kubernetes Indexed Job (its completions; default $STRATA_SHARDS), or of the tasks --queue enqueues',
    number: integerAtLeast(1),
  },
  queue: {
    type: 'string',
    value: 'URL',
    description: 'enqueue --shards tasks on this Redis (redis://host:port) for `strata worker` instead of running',
  },
  'queue-name': { type: 'string', value: 'NAME', description: 'with --queue: the BullMQ queue (default strata)' },
  'job-id': {
    type: 'string',
    value: 'ID',
    description:
      'with --queue: names the job for `strata job status` (default: the command and a hash of its arguments); without --queue (embed, ingest): stage this shard under the job id instead of committing, for `strata job commit <uri> ID`',
  },
  attempts: {
    type: 'string',
    value: 'N',
    description: 'with --queue: runs of a task before it is failed (default 3)',
    number: integerAtLeast(1),
  },
  'backoff-ms': {
    type: 'string',
    value: 'MS',
    description: 'with --queue: first retry delay, doubled each retry (default 1000)',
    number: integerAtLeast(0),
  },
};

/** The shard this command runs (see resolveShard), from its options and environment. */
export function shardOf(ctx: CommandContext): Shard | undefined {
  return resolveShard({ shard: str(ctx, 'shard'), shards: str(ctx, 'shards'), env: ctx.env });
}
