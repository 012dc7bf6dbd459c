/**
 * Per-row lineage for the jobs above src/dataset that write derived columns (the embedding job):
 * the same functions derive() uses, taking the Dataset itself (its internals stay in src/dataset).
 */
import { coreOf } from '../internal.js';
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

/** Stages the hidden stamp column of derived column `column` (visible after the dataset's commit). */
export function addStampColumn(ds: object, column: string, inputs: readonly string[]): void {
  coreOf(ds).transaction().addColumn(stampColumn(column, inputs));
}

/** Clears the values of `column` written by hand (stamp null, value set) in their own commit; how many. */
export function clearHandWrittenValues(
  ds: object,
  column: string,
  options: { readonly verify?: boolean; readonly signal?: AbortSignal } = {},
): Promise<number> {
  return clearHandWritten(coreOf(ds), column, options);
}
