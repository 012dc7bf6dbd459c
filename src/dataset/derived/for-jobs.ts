/**
 * Per-row lineage for the jobs above src/dataset that write derived columns (the embedding job):
 * the same functions derive() uses, taking the Dataset itself (its internals stay in src/dataset).
 */
import { createHash } from 'node:crypto';
import { listStagedShards } from '../../format/staged-jobs.js';
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
