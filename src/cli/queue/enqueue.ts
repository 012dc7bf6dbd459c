/**
 * `strata <command> ... --queue redis://... --shards N`: adds N shard tasks to the BullMQ queue instead
 * of running the command. Task ids are `<jobId>/<index>`; BullMQ ignores an add whose id exists, so
 * enqueuing the same job twice adds nothing (a finished job is kept for `strata job status`).
 */
import { Queue } from 'bullmq';
import { type Command, type CommandContext, UsageError, flag, int, str } from '../command.js';
import { json } from '../format.js';
import { connect, queueTarget } from './connection.js';
import {
  QUEUE_COMMANDS,
  type QueueCommand,
  type TaskData,
  checkJobId,
  defaultJobId,
  taskArgs,
  taskId,
} from './task.js';

export async function enqueueCommand(command: Command, ctx: CommandContext): Promise<number> {
  const name = command.name;
  if (!(QUEUE_COMMANDS as readonly string[]).includes(name))
    throw new UsageError(`strata ${name}: --queue works with ${QUEUE_COMMANDS.join(', ')}`, name);
  if (str(ctx, 'shard') !== undefined)
    throw new UsageError(`strata ${name}: --queue enqueues all --shards N tasks; leave out --shard`, name);
  if (str(ctx, 'shards') === undefined)
    throw new UsageError(`strata ${name}: --queue needs --shards N (how many tasks to split the job into)`, name);
  const count = int(ctx, 'shards', name, 1, 1);
  const attempts = int(ctx, 'attempts', name, 3, 1);
  const backoffMs = int(ctx, 'backoff-ms', name, 1000, 0);
  const target = queueTarget(ctx, name);
  const args = taskArgs(ctx.values, ctx.positionals);
  const jobId = checkJobId(str(ctx, 'job-id') ?? defaultJobId(name, args, count, ctx.cwd));
  const redis = connect(target);
  const queue = new Queue<TaskData>(target.name, { connection: redis });
  try {
    const ids = Array.from({ length: count }, (_, index) => taskId(jobId, index));
    const existing = await Promise.all(ids.map((id) => queue.getJob(id)));
    const missing = ids.flatMap((id, index) => (existing[index] ? [] : [index]));
    await queue.addBulk(
      missing.map((index) => ({
        name,
        data: { jobId, command: name as QueueCommand, args, index, count, cwd: ctx.cwd },
        opts: {
          jobId: taskId(jobId, index),
          attempts,
          backoff: { type: 'exponential', delay: backoffMs },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    const result = { jobId, queue: target.name, tasks: count, added: missing.length };
    if (flag(ctx, 'json')) ctx.out(json(result));
    else
      ctx.out(
        `job ${jobId}: ${missing.length} of ${count} tasks added to queue ${target.name}` +
          `${missing.length < count ? ` (${count - missing.length} were already there)` : ''}; ` +
          `run \`strata worker --queue ${target.url}\` on each machine, \`strata job status ${jobId} --queue ${target.url}\` to follow`,
      );
    return 0;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
