/**
 * The dispatcher: `strata <command> [args]`. Commands are loaded lazily (one file each in
 * `commands/`), so `strata info` does not pay for ONNX Runtime or Fastify.
 */
import { STRATA_VERSION } from '../version.js';
import {
  type Command,
  type CommandContext,
  type CommandIo,
  UsageError,
  commandHelp,
  parseCommandArgs,
} from './command.js';
import { ENV_HELP } from './env.js';
import { describeFailure } from './errors.js';
import { ProgressBar } from './progress.js';

export const COMMANDS = {
  ingest: {
    summary: 'ingest a folder, S3 prefix or table of files into a dataset',
    load: () => import('./commands/ingest.js'),
  },
  info: { summary: 'schema, length, versions and bytes per column', load: () => import('./commands/info.js') },
  head: { summary: 'print the first rows', load: () => import('./commands/head.js') },
  sql: { summary: 'run a SELECT over a dataset (DuckDB)', load: () => import('./commands/sql.js') },
  stats: { summary: 'column statistics, and drift from a version or tag', load: () => import('./commands/stats.js') },
  versions: { summary: 'list versions (time, message, rows)', load: () => import('./commands/versions.js') },
  migrate: { summary: 'upgrade a format v1 dataset to v2', load: () => import('./commands/migrate.js') },
  tag: { summary: 'name a version (or --delete a tag)', load: () => import('./commands/tag.js') },
  tags: { summary: 'list tags', load: () => import('./commands/tags.js') },
  branch: { summary: 'create, list or --delete branches', load: () => import('./commands/branch.js') },
  embed: { summary: 'compute an embedding column with an ONNX model', load: () => import('./commands/embed.js') },
  refresh: {
    summary: 'recompute the stale rows of a derived (embedding) column',
    load: () => import('./commands/refresh.js'),
  },
  search: { summary: 'nearest neighbours in an embedding column', load: () => import('./commands/search.js') },
  apply: { summary: 'validate and register feature definitions', load: () => import('./commands/apply.js') },
  backfill: {
    summary: "write an aggregation view's tiles to Parquet (--shard i/n: one shard's entities)",
    load: () => import('./commands/backfill.js'),
  },
  materialize: {
    summary: 'load feature values into the online store',
    load: () => import('./commands/materialize.js'),
  },
  consistency: {
    summary: 'compare logged online feature values with point-in-time offline values',
    load: () => import('./commands/consistency.js'),
  },
  serve: { summary: 'run the HTTP feature server', load: () => import('./commands/serve.js') },
  monitor: {
    summary: 'freshness of the online store per view; exits 3 on a breached SLO',
    load: () => import('./commands/monitor.js'),
  },
  stream: {
    summary: 'consume a stream source into the online store',
    load: () => import('./commands/stream.js'),
  },
  view: { summary: 'browse a dataset in a local web page', load: () => import('./commands/view.js') },
  worker: { summary: 'run shard tasks from a Redis work queue', load: () => import('./commands/worker.js') },
  job: { summary: 'progress of a queued job across the fleet', load: () => import('./commands/job.js') },
} as const satisfies Record<string, { summary: string; load: () => Promise<{ command: Command }> }>;

export type CommandName = keyof typeof COMMANDS;

export type CliIo = CommandIo;

export function mainHelp(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    `strata ${STRATA_VERSION}: a feature store for unstructured data`,
    '',
    'Usage: strata <command> [arguments] [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    '',
    'Run `strata <command> --help` for the options and an example.',
    '',
    ...ENV_HELP,
    '',
    'Example:',
    '  strata ingest ./photos ./photos.strata && strata head ./photos.strata -n 5',
  ].join('\n');
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failure, 2 usage). Never throws. */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const out = (s: string) => void stdout.write(`${s}\n`);
  const err = (s: string) => void stderr.write(`${s}\n`);
  const [name, ...rest] = argv;
  let command: Command | undefined;
  let jsonMode = false;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest[0]) return runCli([rest[0], '--help'], io);
      out(mainHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      out(STRATA_VERSION);
      return 0;
    }
    if (!Object.hasOwn(COMMANDS, name)) {
      throw new UsageError(
        `unknown command ${JSON.stringify(name)}; commands are: ${Object.keys(COMMANDS).join(', ')}`,
      );
    }
    command = (await COMMANDS[name as CommandName].load()).command;
    jsonMode = command.options.json !== undefined && rest.includes('--json');
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) {
      out(commandHelp(command));
      return 0;
    }
    const ctx: CommandContext = {
      values,
      positionals,
      out,
      err,
      signal: io.signal ?? processSignal(),
      progress: (label, unit) =>
        new ProgressBar(label, { stream: stderr, unit, silent: values.quiet === true, json: jsonMode }),
      env: io.env ?? process.env,
      cwd: io.cwd ?? process.cwd(),
      runCommand: runCli,
    };
    // A sharded command with --queue enqueues its shards for `strata worker` instead of running.
    if (command.options.shard !== undefined && typeof values.queue === 'string')
      return await (await import('./queue/enqueue.js')).enqueueCommand(command, ctx);
    return (await command.run(ctx)) ?? 0;
  } catch (e) {
    const f = describeFailure(e, command);
    err(f.line);
    for (const p of f.problems) err(p);
    if (jsonMode) out(JSON.stringify(f.json));
    if ((io.env ?? process.env).STRATA_DEBUG) err(String((e as Error)?.stack ?? e));
    return f.exitCode;
  }
}

let shared: AbortController | undefined;
/** One AbortController for the process, fired by the first SIGINT/SIGTERM (a second one exits now). */
function processSignal(): AbortSignal {
  if (!shared) {
    const ac = new AbortController();
    shared = ac;
    const onSignal = (sig: NodeJS.Signals) => {
      if (ac.signal.aborted) process.exit(130);
      ac.abort(new Error(`received ${sig}`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return shared.signal;
}
