/**
 * Runs one queued shard task in this process: exactly `strata <command> <args> --shard i/n --json -q`,
 * through the same dispatcher (no child process). The command's output is captured; a failure
 * becomes an Error carrying its stderr (BullMQ retries it), a usage error an UnrecoverableError.
 */
import { Writable } from 'node:stream';
import { UnrecoverableError } from 'bullmq';
import type { CommandContext } from '../command.js';
import { QUEUE_COMMANDS, type TaskData, type TaskResult, rowsOf } from './task.js';

/** Environment variables that would choose another shard; the task's own shard wins anyway. */
const SHARD_ENV = ['JOB_COMPLETION_INDEX', 'STRATA_SHARDS', 'AWS_BATCH_JOB_ARRAY_INDEX', 'AWS_BATCH_JOB_ARRAY_SIZE'];

export async function runTask(
  task: TaskData,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  runCommand: CommandContext['runCommand'],
): Promise<TaskResult> {
  if (!(QUEUE_COMMANDS as readonly string[]).includes(task.command))
    throw new UnrecoverableError(`task of job ${task.jobId}: unknown command ${JSON.stringify(task.command)}`);
  const out = collector();
  const err = collector();
  const taskEnv = { ...env };
  for (const k of SHARD_ENV) delete taskEnv[k];
  const started = performance.now();
  const code = await runCommand(
    [task.command, ...task.args, '--shard', `${task.index}/${task.count}`, '--json', '-q'],
    {
      stdout: out.stream,
      stderr: err.stream,
      env: taskEnv,
      cwd: task.cwd,
      signal,
    },
  );
  const durationMs = performance.now() - started;
  if (code !== 0) {
    const message = `strata ${task.command} --shard ${task.index}/${task.count} exited with ${code}: ${err.text().trim().split('\n').slice(0, 5).join(' | ')}`;
    // Exit code 2 is a usage error: the same arguments fail the same way on every retry.
    throw code === 2 ? new UnrecoverableError(message) : new Error(message);
  }
  let summary: unknown;
  try {
    summary = JSON.parse(out.text().trim().split('\n').pop() ?? 'null');
  } catch {
    summary = out.text();
  }
  return { rows: rowsOf(task.command, summary), durationMs, summary };
}

function collector(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}
