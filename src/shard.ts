import { createHash } from 'node:crypto';
import { StrataError } from './errors.js';
import { encodeEntityKey } from './online/keys.js';

/**
 * One shard of a job split `count` ways: shard `index` (0-based) does its deterministic part of the
 * work (embed: whole fragments, by fragment id; ingest: source files, by a hash of their path;
 * backfill and materialize: entities, by a hash of the entity key — see shardOfEntity).
 * Every shard commits its own part; together the `count` shards do the whole job once.
 */
export interface Shard {
  /** This shard, 0 ≤ index < count. */
  readonly index: number;
  /** How many shards the job is split into. */
  readonly count: number;
}

/** Environment variables `resolveShard` reads (process.env by default). */
export type ShardEnv = Readonly<Record<string, string | undefined>>;

function invalid(message: string, field: string, hint: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', message, { field, hint });
}

/** Checks a shard: integers, count ≥ 1, 0 ≤ index < count. Returns it. */
export function checkShard(shard: Shard, field = 'shard'): Shard {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1)
    throw invalid(`${field}: the shard count must be a positive integer, got ${count}`, field, 'e.g. 0/4');
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw invalid(
      `${field}: shard index ${index} is outside 0..${count - 1} (shards are numbered from 0)`,
      field,
      `use an index below the count, e.g. ${Math.max(0, count - 1)}/${count}`,
    );
  return { index, count };
}

function integer(text: string, field: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text))
    throw invalid(`${field}: ${what} must be a non-negative integer, got '${text}'`, field, 'e.g. --shard 0/4');
  return Number(text);
}

/** Parses `i/n` (CLI `--shard 2/8`). */
export function parseShard(text: string, field = 'shard'): Shard {
  const m = /^([^/]*)\/([^/]*)$/.exec(text.trim());
  if (!m) throw invalid(`${field}: expected index/count, got '${text}'`, field, 'e.g. --shard 0/4 for the first of 4');
  return checkShard({ index: integer(m[1], field, 'the index'), count: integer(m[2], field, 'the count') }, field);
}

/** Where resolveShard looks for the shard. */
export interface ResolveShardOptions {
  /** An explicit shard (the option or `--shard i/n`); wins over the environment. */
  readonly shard?: Shard | string;
  /** The shard count for a Kubernetes Indexed Job (`--shards`); default the `STRATA_SHARDS` variable. */
  readonly shards?: number | string;
  /** Default process.env. */
  readonly env?: ShardEnv;
}

/**
 * The shard this process runs, or undefined for the whole job. In order: an explicit `shard`; a
 * Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, count from `shards` or `STRATA_SHARDS`); an AWS
 * Batch array job (`AWS_BATCH_JOB_ARRAY_INDEX`, `AWS_BATCH_JOB_ARRAY_SIZE`). INVALID_ARGUMENT when
 * an index comes without a count, or the index is not below the count.
 */
export function resolveShard(options: ResolveShardOptions = {}): Shard | undefined {
  const env = options.env ?? process.env;
  if (options.shard !== undefined)
    return typeof options.shard === 'string' ? parseShard(options.shard) : checkShard(options.shard);
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined && k8s !== '') {
    const count = options.shards ?? env.STRATA_SHARDS;
    if (count === undefined || count === '')
      throw invalid(
        `JOB_COMPLETION_INDEX is ${k8s} but the number of shards is not set`,
        'shards',
        'pass --shards N (the Indexed Job’s completions) or set STRATA_SHARDS',
      );
    return checkShard(
      {
        index: integer(k8s, 'JOB_COMPLETION_INDEX', 'the index'),
        count: typeof count === 'number' ? count : integer(count, 'shards', 'the shard count'),
      },
      'JOB_COMPLETION_INDEX',
    );
  }
  const batch = env.AWS_BATCH_JOB_ARRAY_INDEX;
  if (batch !== undefined && batch !== '') {
    const size = env.AWS_BATCH_JOB_ARRAY_SIZE;
    if (size === undefined || size === '')
      throw invalid(
        `AWS_BATCH_JOB_ARRAY_INDEX is ${batch} but AWS_BATCH_JOB_ARRAY_SIZE is not set`,
        'AWS_BATCH_JOB_ARRAY_SIZE',
        'run as an AWS Batch array job (arrayProperties.size), or pass --shard i/n',
      );
    return checkShard(
      {
        index: integer(batch, 'AWS_BATCH_JOB_ARRAY_INDEX', 'the index'),
        count: integer(size, 'AWS_BATCH_JOB_ARRAY_SIZE', 'the array size'),
      },
      'AWS_BATCH_JOB_ARRAY_INDEX',
    );
  }
  if (options.shards !== undefined && options.shards !== '')
    throw invalid(
      `a shard count (${options.shards}) was given without a shard index`,
      'shard',
      'pass --shard i/n, or run as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or an AWS Batch array job',
    );
  return undefined;
}

/** The shard (0..count-1) a key belongs to: the first 6 bytes of its sha256, mod count. Stable everywhere. */
export function shardOfKey(key: string, count: number): number {
  const h = createHash('sha256').update(key).digest();
  return h.readUIntBE(0, 6) % count;
}

/**
 * The shard (0..count-1) of an entity: shardOfKey of its canonical online-store key text
 * (`encodeEntityKey` over `joinKeys`), so every process on every run puts an entity in the same
 * shard. Give the key as the schema types it (the engine's keys): an int64 join key 7 and the
 * string '7' are different keys, as they are in the store; 7 and 7n are the same.
 */
export function shardOfEntity(
  key: Readonly<Record<string, unknown>>,
  joinKeys: readonly string[],
  count: number,
): number {
  return count === 1 ? 0 : shardOfKey(encodeEntityKey(key, joinKeys), count);
}

/** A predicate: does an entity key belong to `shard`? Always true without a shard. */
export function entityFilter(
  shard: Shard | undefined,
  joinKeys: readonly string[],
): ((key: Readonly<Record<string, unknown>>) => boolean) | null {
  if (!shard || shard.count === 1) return null;
  const { index, count } = checkShard(shard);
  return (key) => shardOfEntity(key, joinKeys, count) === index;
}

/** `i/n`, as the CLI writes it. */
export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
