/**
 * A queued shard task: one `strata <command> ... --shard i/n` run. The task carries the command name,
 * its arguments (without the queue options) and the shard; a `strata worker` runs the same command
 * handler in-process with that shard. Task ids are `<jobId>/<index>`, so enqueuing a job twice adds
 * nothing the second time. This file does not import bullmq (types and pure functions only).
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../command.js';

/** The commands a worker runs from the queue: the ones that take `--shard`. */
export const QUEUE_COMMANDS = ['embed', 'ingest', 'materialize'] as const;
export type QueueCommand = (typeof QUEUE_COMMANDS)[number];

/** The BullMQ queue every `strata` worker and enqueuer uses unless `--queue-name` says otherwise. */
export const DEFAULT_QUEUE_NAME = 'strata';

/** Options consumed by the enqueuer; never passed on to the task. */
export const QUEUE_ONLY_OPTIONS = new Set([
  'queue',
  'queue-name',
  'job-id',
  'shards',
  'shard',
  'attempts',
  'backoff-ms',
  'help',
  'json',
  'quiet',
]);

export interface TaskData {
  readonly jobId: string;
  readonly command: QueueCommand;
  /** Arguments after the command name, without shard and queue options. */
  readonly args: readonly string[];
  readonly index: number;
  readonly count: number;
  /** The enqueuer's working directory: relative paths in `args` resolve against it on the worker. */
  readonly cwd: string;
}

/** What a finished task returns (stored by BullMQ as the job's return value). */
export interface TaskResult {
  /** Rows (embed: samples, materialize: feature rows, ingest: files) this run processed. */
  readonly rows: number;
  readonly durationMs: number;
  /** The command's `--json` output. */
  readonly summary: unknown;
}

export function taskId(jobId: string, index: number): string {
  return `${jobId}/${index}`;
}

/** A job id: letters, digits and `._@/-` (BullMQ task ids may not contain `:`). */
export function checkJobId(jobId: string): string {
  if (!/^[A-Za-z0-9._@/-]+$/.test(jobId) || jobId.length > 200)
    throw new UsageError(
      `job id ${JSON.stringify(jobId)} may hold only letters, digits and . _ @ / - (at most 200 characters)`,
    );
  return jobId;
}

/** The default job id: the command and a hash of its arguments, shard count and working directory. */
export function defaultJobId(command: string, args: readonly string[], count: number, cwd: string): string {
  const h = createHash('sha256').update(JSON.stringify({ command, args, count, cwd })).digest('hex');
  return `${command}-${h.slice(0, 16)}`;
}

/** Rebuilds a command's arguments from its parsed options, leaving out the queue-only ones. */
export function taskArgs(
  values: Readonly<Record<string, string | boolean | string[] | undefined>>,
  positionals: readonly string[],
): string[] {
  const args = [...positionals];
  for (const [name, v] of Object.entries(values)) {
    if (QUEUE_ONLY_OPTIONS.has(name) || v === undefined || v === false) continue;
    if (v === true) args.push(`--${name}`);
    else for (const x of Array.isArray(v) ? v : [v]) args.push(`--${name}=${x}`);
  }
  return args;
}

/** Rows a command's `--json` summary reports as processed (0 when it has no such count). */
export function rowsOf(command: string, summary: unknown): number {
  const s = summary as Record<string, unknown> | null;
  if (!s || typeof s !== 'object') return 0;
  if (command === 'materialize' && Array.isArray(s.views))
    return (s.views as { rows?: unknown }[]).reduce((n, v) => n + (typeof v.rows === 'number' ? v.rows : 0), 0);
  for (const k of ['processed', 'rows', 'files', 'ingested']) {
    const v = s[k];
    if (typeof v === 'number') return v;
  }
  return 0;
}
