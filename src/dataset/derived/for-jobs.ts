/**
 * Per-row lineage for the jobs above src/dataset that write derived columns (the embedding job):
 * the same functions derive() uses, taking the Dataset itself (its internals stay in src/dataset).
 */
import { createHash } from 'node:crypto';
import type { Action } from '../../format/actions.js';
import { readFragment } from '../../format/fragment.js';
import { deleteStagedParts, listStagedParts, listStagedShards } from '../../format/staged-jobs.js';
import { columnsFor } from '../dataset.js';
import { coreOf } from '../internal.js';
import { type ColumnSpecInput, validateColumnName } from '../schema.js';
import { clearHandWritten } from './refresh.js';
import { stampColumn, stampsOf } from './row-lineage.js';

/** The stamps of `rows` (positions of the open version) from the inputs' stored samples. */
export function datasetStamps(
  ds: object,
  inputs: readonly string[],
  rows: readonly number[],
  signal?: AbortSignal,
): Promise<string[]> {
  return stampsOf(coreOf(ds), inputs, rows, signal);
}

/**
 * Stages the hidden stamp column of derived column `column` (visible after the dataset's commit);
 * with `jobId`, under the job's id for it (see addJobColumn).
 */
export function addStampColumn(ds: object, column: string, inputs: readonly string[], jobId?: string): void {
  const c = stampColumn(column, inputs);
  coreOf(ds)
    .transaction()
    .addColumn(c, jobId === undefined ? undefined : jobColumnId(jobId, c.name));
}

/**
 * The id of column `name` added by the shards of staged job `jobId`: the same in every shard, so
 * that `commitJob` merges their additions into one column holding every shard's fills.
 */
export function jobColumnId(jobId: string, name: string): string {
  return `c${createHash('sha256').update(`${jobId}\0${name}`).digest('hex').slice(0, 8)}`;
}

/** Stages column `name` (like ds.addColumn) under the ids staged job `jobId` gives it (jobColumnId). */
export function addJobColumn(ds: object, name: string, spec: ColumnSpecInput, jobId: string): void {
  validateColumnName(name);
  const txn = coreOf(ds).transaction();
  for (const c of columnsFor(name, spec)) txn.addColumn(c, jobColumnId(jobId, c.name));
}

/**
 * The metadata of the columns the shards of job `jobId` staged as new (not committed yet), by name;
 * the first shard's when several staged one.
 */
export async function stagedNewColumns(
  ds: object,
  jobId: string,
  signal?: AbortSignal,
): Promise<Map<string, Readonly<Record<string, unknown>>>> {
  const out = new Map<string, Readonly<Record<string, unknown>>>();
  for (const shard of await listStagedShards(coreOf(ds).storage, jobId, signal))
    for (const a of shard.actions)
      if (a.type === 'addColumn' && !out.has(a.column.name)) out.set(a.column.name, a.column.meta);
  return out;
}

/** Clears the values of `column` written by hand (stamp null, value set) in their own commit; how many. */
export function clearHandWrittenValues(
  ds: object,
  column: string,
  options: { readonly verify?: boolean; readonly signal?: AbortSignal } = {},
): Promise<number> {
  return clearHandWritten(coreOf(ds), column, options);
}

/** What a staged job's shard staged in parts before it was killed (see stagedShardProgress). */
export interface StagedProgress {
  /** The number the shard's next part takes. */
  readonly nextPart: number;
  /** Rows of `column` the parts filled, by fragment id (fragment-relative ranges). */
  readonly covered: ReadonlyMap<number, ReadonlyArray<{ readonly offset: number; readonly rows: number }>>;
  /** The column's metadata as the last part staged it (per-shard keys such as failures), if it did. */
  readonly columnMeta?: Readonly<Record<string, unknown>>;
}

/** Stages the pending changes as part `part` of `shard` of job `jobId` (see putStagedShard). */
export function stagePart(
  ds: object,
  message: string,
  jobId: string,
  shard: { readonly index: number; readonly count: number },
  part: number,
  signal?: AbortSignal,
): Promise<'staged' | 'exists'> {
  return coreOf(ds).stage(message, jobId, shard, signal, part);
}

/**
 * The parts `shard` of job `jobId` staged in an earlier, killed run, for a re-run to resume from:
 * the rows of column `column` they filled. Parts whose fills no longer apply to the fragments as
 * they are in the open version (a fragment was rewritten or filled meanwhile) are deleted, and the
 * shard starts over.
 */
export async function stagedShardProgress(
  ds: object,
  jobId: string,
  shard: { readonly index: number; readonly count: number },
  column: string,
  signal?: AbortSignal,
): Promise<StagedProgress> {
  const core = coreOf(ds);
  const parts = await listStagedParts(core.storage, jobId, shard.index, shard.count, signal);
  if (parts.length === 0) return { nextPart: 0, covered: new Map() };
  const id = core.manifest.columns.find((c) => c.name === column)?.id ?? jobColumnId(jobId, column);
  const keys = new Map((await core.version.allFragments(signal)).map((slot) => [slot.ref.id, slot.ref.key]));
  const fills = parts
    .flatMap((p) => p.actions)
    .filter((a): a is Extract<Action, { type: 'fill' }> => a.type === 'fill');
  if (fills.some((a) => keys.get(a.fragmentId) !== a.baseKey)) {
    await deleteStagedParts(core.storage, jobId, shard.index, shard.count, signal);
    return { nextPart: 0, covered: new Map() };
  }
  const covered = new Map<number, { offset: number; rows: number }[]>();
  for (const a of fills) {
    if (!a.columns.includes(id)) continue;
    const file = await readFragment(core.storage, a.newKey, signal);
    const segs = covered.get(a.fragmentId) ?? [];
    for (const s of file.columns[id] ?? []) segs.push({ offset: s.offset, rows: s.rows });
    covered.set(a.fragmentId, segs);
  }
  let columnMeta: Record<string, unknown> | undefined;
  for (const a of parts.flatMap((p) => p.actions)) {
    if (a.type === 'addColumn' && a.column.id === id) columnMeta = { ...a.column.meta };
    else if (a.type === 'setColumnMeta' && a.column === id && !a.remove)
      columnMeta = { ...columnMeta, [a.key]: a.value };
  }
  return { nextPart: parts.length, covered, columnMeta };
}
