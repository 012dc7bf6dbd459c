import type { Dataset } from '../dataset/dataset.js';
import type { StagedProgress } from '../dataset/derived/for-jobs.js';
import type { DatasetReader } from '../dataset/read.js';
import { isStrataError, StrataError } from '../errors.js';
import type { Shard } from '../shard.js';
import { shardLabel } from '../shard.js';
import type { EmbedFailure } from './lineage.js';
import { MAX_RECORDED_FAILURES } from './lineage.js';

/** Row positions [start, end) of the dataset, in order. */
export type RowRange = readonly [number, number];

/** The rows a (sharded) embedding job covers, and those of them it still has to compute. */
export interface RowPlan {
  /** Rows without a value in the output column yet, in order. */
  readonly todo: readonly RowRange[];
  /** Rows the job covers (a shard: its fragments' rows; otherwise every row). */
  readonly rows: number;
}

/**
 * A fragment belongs to shard `fragmentId mod count`. Fragment ids are stable (appends add new ids,
 * fills keep them), so shards that opened different versions agree on every fragment they both see,
 * and each shard's fills touch only its own fragments: their commits commute.
 */
export function fragmentInShard(fragmentId: number, shard: Shard | undefined): boolean {
  return !shard || fragmentId % shard.count === shard.index;
}

/**
 * The rows of `shard`'s fragments (every fragment without one) that output column `column` does
 * not cover yet (undefined: the column is new, every row is to do), merged into ranges. Rows
 * appended after the version `ds` has open are not seen: they are left for the next run.
 */
export async function planRows(
  ds: DatasetReader,
  column: string | undefined,
  shard?: Shard,
  staged?: StagedProgress['covered'],
): Promise<RowPlan> {
  const todo: [number, number][] = [];
  const add = (s: number, e: number) => {
    if (e <= s) return;
    const last = todo.at(-1);
    if (last && last[1] === s) last[1] = e;
    else todo.push([s, e]);
  };
  const fragments = await ds.fragmentCoverage(column, { only: (id) => fragmentInShard(id, shard) });
  let rows = 0;
  for (const f of fragments) {
    rows += f.rows;
    let at = 0;
    // rows the column covers, and those a killed run of this shard staged (staged jobs)
    const segs = [...(column === undefined ? [] : f.covered), ...(staged?.get(f.id) ?? [])];
    for (const seg of segs.sort((a, b) => a.offset - b.offset)) {
      add(f.start + at, f.start + Math.min(seg.offset, f.rows));
      at = Math.max(at, seg.offset + seg.rows);
    }
    add(f.start + at, f.start + f.rows);
  }
  return { todo, rows };
}

/** The items of `source(start, end)` for each range, in order. */
export async function* overRanges<T>(
  ranges: readonly RowRange[],
  source: (start: number, end: number) => AsyncIterable<T>,
): AsyncGenerator<T> {
  for (const [s, e] of ranges) yield* source(s, e);
}

/** Rows written, as commit messages name them: `rows 0..8, 16..24`. */
export function rangesText(written: readonly RowRange[]): string {
  return `rows ${written.map(([a, b]) => `${a}..${b}`).join(', ')}`;
}

/** Column metadata key holding one shard's failures (the lineage key is shared, so shards never update it). */
export function shardFailuresKey(shard: Shard): string {
  return `failures ${shardLabel(shard)}`;
}

/** A shard's failures, as recorded under shardFailuresKey. */
export interface ShardFailures {
  readonly failureCount: number;
  readonly failures: readonly EmbedFailure[];
  readonly updatedAt: string;
}

export function withShardFailures(prev: unknown, added: readonly EmbedFailure[]): ShardFailures {
  const p = (prev ?? { failureCount: 0, failures: [] }) as ShardFailures;
  const failures = [...p.failures, ...added].slice(0, MAX_RECORDED_FAILURES);
  return { failureCount: p.failureCount + added.length, failures, updatedAt: new Date().toISOString() };
}

/**
 * Runs `attempt` (which plans, stages a change and commits it; undefined when that commit lost a
 * race with a CONFLICT) until it returns a value, re-reading the latest version in between: another
 * shard created the output column or recorded its lineage first, and the next attempt re-plans
 * against the winner's lineage (adopting it when it matches, refusing with CONFLICT otherwise).
 */
export async function untilCommitted<T>(ds: Dataset, attempt: () => Promise<T | undefined>, attempts = 8): Promise<T> {
  for (let i = 1; ; i++) {
    const r = await attempt();
    if (r !== undefined) return r;
    if (i >= attempts) {
      throw new StrataError('CONFLICT', `could not record the output column of ${ds.uri} after ${i} attempts`, {
        uri: ds.uri,
        hint: 'other writers keep changing its metadata; retry later',
      });
    }
    await ds.refresh();
  }
}

/** Commits the staged change; false (and nothing staged) when a concurrent commit conflicted. */
export async function tryCommit(ds: Dataset, message: string): Promise<boolean> {
  try {
    await ds.commit(message);
    return true;
  } catch (err) {
    await ds.rollback();
    if (isStrataError(err, 'CONFLICT')) return false;
    throw err;
  }
}
