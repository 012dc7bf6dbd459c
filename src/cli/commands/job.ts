import { Queue } from 'bullmq';
import type { Command, CommandContext } from '../command.js';
import { UsageError, flag, int, integerAtLeast } from '../command.js';
import { json } from '../format.js';
import { JSON_OPTION, openDataset } from '../open.js';
import { connect, queueTarget } from '../queue/connection.js';
import { type JobStatus, jobStatus } from '../queue/status.js';
import type { TaskData, TaskResult } from '../queue/task.js';

export const command: Command = {
  name: 'job',
  summary:
    'Shows a queued job’s progress across the fleet (`strata job status <jobId> --queue URL`): tasks done, running, failed and waiting, runs (retries and re-runs of tasks whose worker died included), rows and rows/s. `strata job commit <uri> <jobId>` publishes the shards a two-phase job (embed/ingest --job-id) staged as one version.',
  positionals: [
    { name: 'action', description: 'status | commit' },
    { name: 'jobId|uri', description: 'status: the job id printed when the job was enqueued; commit: the dataset URI' },
    { name: 'jobId', description: 'commit: the job id its shards were run with (--job-id)', required: false },
  ],
  options: {
    queue: {
      type: 'string',
      value: 'URL',
      description: 'status: Redis of the work queue: redis://host:port (required)',
    },
    'allow-partial': {
      type: 'boolean',
      description: 'commit: publish the shards staged so far even when some are missing',
    },
    'queue-name': { type: 'string', value: 'NAME', description: 'the BullMQ queue (default strata)' },
    wait: { type: 'boolean', description: 'wait until no task is waiting or running, then print' },
    'poll-interval-ms': {
      type: 'string',
      value: 'MS',
      description: 'with --wait: how often to look (default 1000)',
      number: integerAtLeast(10),
    },
    json: { ...JSON_OPTION, description: 'print the status as JSON' },
  },
  examples: [
    'strata job status embed-3fa9c2d1e0b4a7f6 --queue redis://queue.internal:6379 --wait --json',
    'strata job commit s3://lake/pets embed-2024-06-01',
  ],
  async run(ctx) {
    const [action, jobId] = ctx.positionals;
    if (action === 'commit') return commitJob(ctx);
    if (action !== 'status')
      throw new UsageError(`strata job: unknown action ${JSON.stringify(action)}; try status or commit`, 'job');
    if (ctx.positionals.length > 2)
      throw new UsageError(`strata job status: unexpected argument ${JSON.stringify(ctx.positionals[2])}`, 'job');
    const target = queueTarget(ctx, 'job');
    const pollMs = int(ctx, 'poll-interval-ms', 'job', 1000, 10);
    const redis = connect(target);
    const queue = new Queue<TaskData, TaskResult>(target.name, { connection: redis });
    try {
      let s = await jobStatus(queue, jobId);
      while (flag(ctx, 'wait') && s.waiting + s.running > 0 && !ctx.signal.aborted) {
        await new Promise((r) => setTimeout(r, pollMs));
        s = await jobStatus(queue, jobId);
      }
      ctx.out(flag(ctx, 'json') ? json(s) : describe(s));
      return s.failed > 0 ? 1 : 0;
    } finally {
      await queue.close();
      redis.disconnect();
    }
  },
};

function describe(s: JobStatus): string {
  const lines = [
    `job ${s.jobId} (${s.command}, ${s.tasks} tasks): ${s.done} done, ${s.running} running, ${s.failed} failed, ${s.waiting} waiting${s.retrying ? ` (${s.retrying} retrying after a backoff)` : ''}`,
    `${s.runs} runs; ${s.rows} rows${s.rowsPerSecond === null ? '' : `, ${s.rowsPerSecond.toFixed(1)} rows/s across the fleet`}`,
  ];
  for (const f of s.failures.slice(0, 20)) lines.push(`  ${f.task}: ${f.error}`);
  return lines.join('\n');
}

/** `strata job commit <uri> <jobId> [--allow-partial]`: one version from every staged shard. */
async function commitJob(ctx: CommandContext): Promise<number> {
  const [, uri, jobId] = ctx.positionals;
  if (jobId === undefined)
    throw new UsageError('strata job commit: missing <jobId> (strata job commit <uri> <jobId>)', 'job');
  const ds = await openDataset(ctx, uri, 'job');
  try {
    const r = await ds.commitJob(jobId, { allowPartial: flag(ctx, 'allow-partial'), signal: ctx.signal });
    if (flag(ctx, 'json')) ctx.out(json(r));
    else
      ctx.out(
        r.alreadyCommitted
          ? `job ${jobId} was committed before, as version ${r.version}; nothing to do`
          : `job ${jobId}: ${r.shards.length} of ${r.count} shards published as version ${r.version}`,
      );
    return 0;
  } finally {
    await ds.close();
  }
}
