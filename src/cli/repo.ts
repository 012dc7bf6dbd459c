/**
 * Opening a feature repository and its online store from CLI arguments. The store is the embedded
 * SQLite file inside the repo unless `--store redis` (or STRATA_ONLINE_STORE=redis) is given;
 * the Redis URL comes from `--redis-url`, STRATA_REDIS_URL or REDIS_URL.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StrataError, isStrataError } from '../errors.js';
import type { FeatureRepo } from '../features/repo.js';
import type { OnlineStore, OnlineStoreType } from '../online/index.js';

/** The online store kinds (as in src/online/open.ts; listed here so `--help` loads no store driver). */
const ONLINE_STORE_TYPES: readonly OnlineStoreType[] = ['sqlite', 'redis'];
import { type CommandContext, type OptionSpec, UsageError, str } from './command.js';

export const REPO_POSITIONAL = {
  name: 'dir',
  description: 'feature repository directory with strata.yaml (default: .)',
  required: false,
} as const;

export const STORE_OPTIONS: Record<string, OptionSpec> = {
  store: {
    type: 'string',
    value: 'TYPE',
    description: `online store: ${ONLINE_STORE_TYPES.join(' | ')} (default sqlite in <dir>/.strata; env STRATA_ONLINE_STORE)`,
  },
  'redis-url': {
    type: 'string',
    value: 'URL',
    description: 'Redis URL (default env STRATA_REDIS_URL, REDIS_URL, redis://127.0.0.1:6379)',
  },
  'redis-cluster': {
    type: 'string',
    value: 'URL,URL',
    description: 'Redis Cluster seed nodes, comma-separated (default env STRATA_REDIS_CLUSTER)',
  },
};

export const STORE_ENV_HELP = [
  'Environment: STRATA_ONLINE_STORE=sqlite|redis, STRATA_REDIS_URL (or REDIS_URL), STRATA_REDIS_CLUSTER, STRATA_TOKEN (serve: bearer token).',
];

export function repoDir(ctx: CommandContext): string {
  return resolve(ctx.cwd, ctx.positionals[0] ?? '.');
}

/** Loads the repository named on the command line; a missing folder or strata.yaml is NOT_FOUND naming the path. */
export async function loadRepo(ctx: CommandContext): Promise<FeatureRepo> {
  const dir = repoDir(ctx);
  const given = ctx.positionals[0] ?? '.';
  const named = given === dir ? dir : `${given} (${dir})`;
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) {
    throw new StrataError('NOT_FOUND', `feature repository ${named} does not exist`, {
      file: dir,
      hint: 'pass the folder that holds strata.yaml, e.g. strata apply ./feature_repo',
    });
  }
  const { FeatureRepo } = await import('../features/repo.js');
  try {
    return await FeatureRepo.load(dir, { signal: ctx.signal });
  } catch (err) {
    if (isStrataError(err, 'NOT_FOUND') && err.details.file === 'strata.yaml')
      throw new StrataError('NOT_FOUND', `no strata.yaml in ${named}`, {
        file: resolve(dir, 'strata.yaml'),
        cause: err,
        hint: 'run it in a feature repository, or pass its folder: strata apply ./feature_repo',
      });
    throw err;
  }
}

export async function openStore(
  ctx: CommandContext,
  command: string,
  dir: string,
  project?: string,
): Promise<OnlineStore> {
  const type = str(ctx, 'store') ?? (ctx.env.STRATA_ONLINE_STORE || 'sqlite');
  if (!(ONLINE_STORE_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(
      `strata ${command}: --store must be one of ${ONLINE_STORE_TYPES.join(', ')}, got ${JSON.stringify(type)}`,
      command,
    );
  }
  const { openOnlineStore } = await import('../online/open.js');
  if ((type as OnlineStoreType) === 'redis') {
    const url = str(ctx, 'redis-url') ?? (ctx.env.STRATA_REDIS_URL || ctx.env.REDIS_URL || undefined);
    const cluster = (str(ctx, 'redis-cluster') ?? ctx.env.STRATA_REDIS_CLUSTER ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    return openOnlineStore(dir, {
      type: 'redis',
      ...(cluster.length ? { clusterNodes: cluster } : url ? { url } : {}),
      ...(project ? { project } : {}),
    });
  }
  return openOnlineStore(dir, { type: 'sqlite' });
}

/** `2024-01-03`, `2024-01-03T12:00:00Z`, epoch milliseconds, or `now`. */
export function parseTime(raw: string, option: string, command: string): Date {
  if (raw === 'now') return new Date();
  const d = /^\d+$/.test(raw) ? new Date(Number(raw)) : new Date(raw);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(
      `strata ${command}: --${option} ${JSON.stringify(raw)} is not a time (use ISO 8601 like 2024-01-03T00:00:00Z, epoch ms, or now)`,
      command,
    );
  }
  return d;
}
