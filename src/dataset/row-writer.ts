/**
 * Rows encoded ahead of their append, for writers beside the dataset layer (src/ingest) that
 * encode many files at once and append them in order. Not part of the public API.
 */
import type { Sample } from '../format/chunk.js';
import { coreOf } from './internal.js';
import type { LinkResolver } from './links.js';

/** One row validated and encoded through the htypes (samples per stored column), ready to append. */
export type EncodedRow = Readonly<Record<string, Sample | null>>;

/**
 * Validates and encodes `row` for the dataset's pending transaction (started if none); `rowNumber`
 * is the row its errors name. Column metadata changes (e.g. new class names) go to the transaction.
 */
export function encodeRow(ds: object, row: Readonly<Record<string, unknown>>, rowNumber: number): Promise<EncodedRow> {
  return coreOf(ds).encodeRow(row, rowNumber);
}

/** Appends a row `encodeRow` returned to the pending transaction (visible after `commit`). */
export async function appendEncodedRow(ds: object, row: EncodedRow): Promise<void> {
  await coreOf(ds).transaction().appendRow(row);
}

/** How the dataset opens linked files (its `links` storage options). */
export function linkResolver(ds: object): LinkResolver {
  return coreOf(ds).links;
}
