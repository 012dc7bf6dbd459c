import { type Job, Worker } from 'bullmq';
import type { Command } from '../command.js';
import { flag, int, integerAtLeast } from '../command.js';
import { connect, queueTarget } from '../queue/connection.js';
import { runTask } from '../queue/run-task.js';
import type { TaskData, TaskResult } from '../queue/task.js';

export const command: Command = {
  name: 'worker',
  summary:
    'Runs shard tasks from a BullMQ work queue on Redis (enqueued by `strata embed|ingest|materialize ... --queue URL --shards N`), each as `strata <command> ... --shard i/n` in this process. Start one on every machine: idle workers take the next task (work stealing); a failed task is retried with backoff; a dead worker’s task is run again by another once its lock expires. SIGTERM finishes the current task, then exits (a second one exits at once; the task is then run again elsewhere).',
  positionals: [],
  options: {
    queue: { type: 'string', value: 'URL', description: 'Redis of the work queue: redis://host:port (required)' },
    'queue-name': { type: 'string', value: 'NAME', description: 'the BullMQ queue (default strata)' },
    concurrency: {
      type: 'string',
      value: 'N',
      description: 'tasks run at once in this process (default 1)',
      number: integerAtLeast(1),
    },
    'lock-duration-ms': {
      type: 'string',
      value: 'MS',
      description:
        'a task’s lock, renewed while it runs; a dead worker’s task is free again after this (default 30000)',
      number: integerAtLeast(100),
    },
    'stalled-interval-ms': {
      type: 'string',
      value: 'MS',
      description: 'how often to look for tasks whose worker died (default 30000)',
      number: integerAtLeast(100),
    },
    'max-tasks': {
      type: 'string',
      value: 'N',
      description: 'exit after running N tasks (default: run until SIGTERM)',
      number: integerAtLeast(1),
    },
    quiet: { type: 'boolean', short: 'q', description: 'no line per task' },
  },
  examples: [
    'strata worker --queue redis://queue.internal:6379',
    'strata embed s3://lake/pets --column image --model s3://models/clip.onnx --queue redis://queue.internal:6379 --shards 1000',
  ],
  async run(ctx) {
    const target = queueTarget(ctx, 'worker');
    const concurrency = int(ctx, 'concurrency', 'worker', 1, 1);
    const lockDuration = int(ctx, 'lock-duration-ms', 'worker', 30_000, 100);
    const stalledInterval = int(ctx, 'stalled-interval-ms', 'worker', 30_000, 100);
    const maxTasks = int(ctx, 'max-tasks', 'worker', 0, 1);
    const quiet = flag(ctx, 'quiet');
    const log = (event: Record<string, unknown>) => {
      if (!quiet) ctx.out(JSON.stringify({ ...event, pid: process.pid }));
    };
    // The tasks run to the end on SIGTERM; a second signal exits the process (see run.ts).
    const taskSignal = new AbortController().signal;
    let ran = 0;
    const redis = connect(target);
    const worker = new Worker<TaskData, TaskResult>(
      target.name,
      async (job: Job<TaskData, TaskResult>) => {
        log({ event: 'start', task: job.id, attempt: job.attemptsMade + 1 });
        const result = await runTask(job.data, ctx.env, taskSignal, ctx.runCommand);
        log({ event: 'done', task: job.id, rows: result.rows, durationMs: Math.round(result.durationMs) });
        if (maxTasks > 0 && ++ran >= maxTasks) void worker.close();
        return result;
      },
      { connection: redis, concurrency, lockDuration, stalledInterval, autorun: false },
    );
    worker.on('failed', (job, err) => {
      if (job) log({ event: 'failed', task: job.id, attempt: job.attemptsMade, error: err.message });
    });
    worker.on('error', (err) => ctx.err(`strata worker: ${err.message}`));
    const stop = () => void worker.close();
    ctx.signal.addEventListener('abort', stop, { once: true });
    log({ event: 'ready', queue: target.name });
    try {
      await worker.run();
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      await worker.close();
      redis.disconnect();
    }
  },
};
