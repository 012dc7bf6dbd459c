/** Progress of a queued job across the fleet, read from its tasks in the BullMQ queue. */
import type { Queue } from 'bullmq';
import { StrataError } from '../../errors.js';
import { type TaskData, type TaskResult, taskId } from './task.js';

export interface JobStatus {
  readonly jobId: string;
  readonly command: string;
  readonly tasks: number;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  /** Waiting for a worker, including tasks waiting out a retry backoff (`retrying`). */
  readonly waiting: number;
  readonly retrying: number;
  /** Times a worker started a task: one per task, plus retries and re-runs of tasks whose worker died. */
  readonly runs: number;
  /** Rows (embed: samples) the finished tasks processed. */
  readonly rows: number;
  /** rows over the time from the first task's start to the last task's end (null before any finished). */
  readonly rowsPerSecond: number | null;
  readonly failures: readonly { readonly task: string; readonly error: string }[];
}

export async function jobStatus(queue: Queue<TaskData, TaskResult>, jobId: string): Promise<JobStatus> {
  const first = await queue.getJob(taskId(jobId, 0));
  if (!first)
    throw new StrataError('NOT_FOUND', `job ${jobId} has no tasks in queue ${queue.name}`, {
      key: jobId,
      hint: 'check the job id (printed when it was enqueued), --queue and --queue-name',
    });
  const count = first.data.count;
  const tasks = await Promise.all(
    Array.from({ length: count }, (_, i) => (i === 0 ? Promise.resolve(first) : queue.getJob(taskId(jobId, i)))),
  );
  const states = await Promise.all(tasks.map((t) => (t ? t.getState() : Promise.resolve('unknown'))));
  let done = 0;
  let running = 0;
  let failed = 0;
  let waiting = 0;
  let retrying = 0;
  let runs = 0;
  let rows = 0;
  let startMs = Infinity;
  let endMs = -Infinity;
  const failures: { task: string; error: string }[] = [];
  tasks.forEach((t, i) => {
    const state = states[i];
    runs += t?.attemptsStarted ?? 0;
    if (state === 'completed' && t) {
      done++;
      rows += t.returnvalue?.rows ?? 0;
      if (t.processedOn !== undefined) startMs = Math.min(startMs, t.processedOn);
      if (t.finishedOn !== undefined) endMs = Math.max(endMs, t.finishedOn);
    } else if (state === 'active') running++;
    else if (state === 'failed' && t) {
      failed++;
      failures.push({ task: t.id ?? taskId(jobId, i), error: t.failedReason });
    } else if (state === 'delayed') {
      waiting++;
      retrying++;
    } else waiting++;
  });
  return {
    jobId,
    command: first.data.command,
    tasks: count,
    done,
    running,
    failed,
    waiting,
    retrying,
    runs,
    rows,
    rowsPerSecond: endMs > startMs ? rows / ((endMs - startMs) / 1000) : null,
    failures,
  };
}
