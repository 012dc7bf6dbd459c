import type { Command } from '../command.js';
import { integerAtLeast, int, str } from '../command.js';
import { REPO_POSITIONAL, STORE_ENV_HELP, STORE_OPTIONS, loadRepo, openStore, repoDir } from '../repo.js';

export const command: Command = {
  name: 'stream',
  summary:
    "Runs a stream consumer for the repository's kind: stream source: it owns a fair share of the stream's partitions (leases in Redis), applies their events to the window state, writes feature values to the online store and checkpoints state + offset. Run any number of them; they rebalance when one joins or dies. Ctrl-C checkpoints, hands the partitions back and stops.",
  positionals: [REPO_POSITIONAL],
  options: {
    source: { type: 'string', value: 'NAME', description: 'the stream source (default: the only one)' },
    'nats-url': {
      type: 'string',
      value: 'URL',
      description: 'NATS server for transport: jetstream (default env STRATA_NATS_URL, nats://127.0.0.1:4222)',
    },
    'lease-ms': {
      type: 'string',
      value: 'MS',
      description: 'partition lease: a dead consumer’s partitions move within it (default 5000)',
      number: integerAtLeast(100),
    },
    'checkpoint-ms': {
      type: 'string',
      value: 'MS',
      description: 'checkpoint interval (default 1000)',
      number: integerAtLeast(10),
    },
    id: { type: 'string', value: 'ID', description: 'consumer id (default consumer-<pid>-<random>)' },
    ...STORE_OPTIONS,
  },
  notes: [
    ...STORE_ENV_HELP,
    'Leases and checkpoints live in Redis (--redis-url); the online store is usually the same Redis (--store redis).',
  ],
  examples: ['strata stream ./feature_repo --store redis --redis-url redis://127.0.0.1:6379'],
  async run(ctx) {
    const repo = await loadRepo(ctx);
    let store;
    try {
      store = await openStore(ctx, 'stream', repoDir(ctx), repo.project);
      const { StreamConsumer } = await import('../../online/stream-consumer.js');
      const redisUrl = str(ctx, 'redis-url') ?? (ctx.env.STRATA_REDIS_URL || ctx.env.REDIS_URL || undefined);
      const natsUrl = str(ctx, 'nats-url') ?? (ctx.env.STRATA_NATS_URL || undefined);
      const consumer = await StreamConsumer.start(repo, store, {
        ...(str(ctx, 'source') ? { source: str(ctx, 'source') } : {}),
        ...(str(ctx, 'id') ? { consumerId: str(ctx, 'id') } : {}),
        ...(redisUrl ? { redisUrl } : {}),
        ...(natsUrl ? { natsUrl } : {}),
        leaseMs: int(ctx, 'lease-ms', 'stream', 5000, 100),
        checkpointIntervalMs: int(ctx, 'checkpoint-ms', 'stream', 1000, 10),
        onEvent: (e) =>
          e.type === 'error'
            ? ctx.err(`stream consumer: ${e.error instanceof Error ? e.error.message : String(e.error)} (retrying)`)
            : ctx.out(
                e.type === 'acquired'
                  ? `partition ${e.partition} acquired (offset ${e.offset ?? 'start'}, ${e.events} events in checkpoint)`
                  : e.type === 'released'
                    ? `partition ${e.partition} released (offset ${e.offset ?? 'start'})`
                    : `partition ${e.partition} lost`,
              ),
      });
      ctx.out(`stream consumer ${consumer.consumerId}: source ${consumer.source} (Ctrl-C to stop)`);
      await new Promise<void>((resolve, reject) => {
        consumer.done.then(resolve, reject);
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await consumer.close();
      ctx.out(`stream consumer ${consumer.consumerId} stopped: applied ${consumer.applied} events`);
    } finally {
      await store?.close();
      await repo.close();
    }
  },
};
