import { createHash } from 'node:crypto';
import { StrataError } from '../../errors.js';
import type { ColumnSchema } from '../../format/manifest-v2.js';
import type { Sample } from '../../format/chunk.js';
import type { NewColumn } from '../../format/transaction.js';
import type { SampleRun } from '../../format/column-reader.js';
import { LINEAGE_SUFFIX } from '../schema.js';

/** What per-row lineage reads of the open version (DatasetCore; structural, so core.ts can import this file). */
export interface LineageSource {
  readonly uri: string;
  /** One object per open version (the stale-row cache is keyed by it). */
  readonly manifest: { readonly length: number; readonly columns: readonly ColumnSchema[] };
  columnManifest(name: string): ColumnSchema;
  reader(name: string): {
    sample(row: number, signal?: AbortSignal): Promise<Sample | null>;
    scan(start: number, end: number, options: { signal?: AbortSignal }): AsyncIterable<SampleRun>;
  };
}

/**
 * The suffix of stamp columns. Per-row lineage of a derived column (an embedding column or a persisted `derive` column).
 *
 * Next to derived column `D` a hidden column `D.__lineage` (a "stamp" column) holds, for each row
 * whose value was computed by the column's job, a stamp: the hex sha256 (first 128 bits) of the
 * stored sample bytes and shapes of the row's input columns at computation time. Every write path
 * that changes an input of a row (update, merge) leaves both `D` and its stamp without a value
 * (see ops/mutate.ts), appends leave them uncovered, and writing `D` by hand leaves the stamp
 * without one. So a row is **stale** exactly when its stamp is null: checking it reads one small
 * column, never the media. The stamp value itself lets `verifyStamps` compare with the inputs'
 * current bytes (which does read them) to catch writers that bypass these rules.
 */
export { LINEAGE_SUFFIX };

/** Column metadata `lineage.kind` of a stamp column. */
export const ROW_LINEAGE_KIND = 'strata.rowLineage';

/** The stamp column's name for derived column `column`. */
export function stampColumnName(column: string): string {
  return `${column}${LINEAGE_SUFFIX}`;
}

/**
 * The stamp column of `column` (kept across renames: recorded in its lineage as `rowLineage`),
 * or undefined when the column has no per-row lineage (not derived, or derived before it existed).
 */
export function stampColumnOf(core: LineageSource, column: string): string | undefined {
  const lineage = core.columnManifest(column).meta.lineage as { rowLineage?: unknown } | undefined;
  const name = lineage?.rowLineage;
  if (typeof name !== 'string') return undefined;
  return core.manifest.columns.some((c) => c.name === name) ? name : undefined;
}

/** The input columns a derived column's lineage names (embedding: its source; derive: `inputs`). */
export function lineageInputs(meta: Readonly<Record<string, unknown>>): string[] | undefined {
  const l = meta.lineage as { sourceColumn?: unknown; inputs?: unknown } | undefined;
  if (!l) return undefined;
  if (Array.isArray(l.inputs)) return l.inputs.filter((x): x is string => typeof x === 'string');
  return typeof l.sourceColumn === 'string' ? [l.sourceColumn] : undefined;
}

/**
 * The stamp column to add next to derived column `column`. Its lineage names the derived column's
 * inputs and the column itself, so an update of either clears the stamp; `sourceColumn` is left
 * out on purpose (writers before per-row lineage clear such columns on every update).
 */
export function stampColumn(column: string, inputs: readonly string[]): NewColumn {
  return {
    name: stampColumnName(column),
    htype: 'text',
    dtype: 'string',
    sampleCompression: 'none',
    chunkCompression: 'lz4',
    meta: { hidden: true, lineage: { kind: ROW_LINEAGE_KIND, column, inputs: [...inputs, column] } },
  };
}

/** The stamp of one row: its input samples (in input order; null for none) hashed. */
export function stampOf(samples: ReadonlyArray<Sample | null | undefined>): string {
  const h = createHash('sha256');
  for (const s of samples) {
    if (!s) {
      h.update('n');
      continue;
    }
    h.update(`s${s.shape.join('x')}:${s.bytes.byteLength}:`);
    h.update(s.bytes);
  }
  return h.digest('hex').slice(0, 32);
}

/** A stamp as the stamp column stores it (a UTF-8 text sample). */
export function stampSample(stamp: string): Sample {
  return { bytes: new TextEncoder().encode(stamp), shape: [] };
}

/** The stamps of `rows` (positions of the open version) from the inputs' stored samples. */
export async function stampsOf(
  core: LineageSource,
  inputs: readonly string[],
  rows: readonly number[],
  signal?: AbortSignal,
): Promise<string[]> {
  const out: string[] = [];
  for (const row of rows) {
    const samples: (Sample | null)[] = [];
    for (const c of inputs) samples.push(await core.reader(c).sample(row, signal));
    out.push(stampOf(samples));
  }
  return out;
}

const masks = new WeakMap<object, Map<string, Promise<Uint8Array>>>();

/**
 * 1 for each position of the open version whose value of `column` is stale (its stamp is null),
 * 0 otherwise; undefined when the column has no per-row lineage. Cached per version.
 */
export async function staleMask(
  core: LineageSource,
  column: string,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  const stamps = stampColumnOf(core, column);
  if (stamps === undefined) return undefined;
  let byColumn = masks.get(core.manifest);
  if (!byColumn) masks.set(core.manifest, (byColumn = new Map<string, Promise<Uint8Array>>()));
  let p = byColumn.get(stamps);
  if (!p) {
    p = computeMask(core, stamps, signal);
    p.catch(() => byColumn.delete(stamps));
    byColumn.set(stamps, p);
  }
  return p;
}

async function computeMask(core: LineageSource, stamps: string, signal?: AbortSignal): Promise<Uint8Array> {
  const n = core.manifest.length;
  const mask = new Uint8Array(n).fill(1);
  for await (const run of core.reader(stamps).scan(0, n, { signal })) {
    for (let j = 0; j < run.samples.length; j++) if (run.samples[j]) mask[run.start + j] = 0;
  }
  return mask;
}

/** Positions of the open version whose value of `column` is stale (empty without per-row lineage). */
export async function staleRows(core: LineageSource, column: string, signal?: AbortSignal): Promise<number[]> {
  const mask = await staleMask(core, column, signal);
  const out: number[] = [];
  if (mask) for (let i = 0; i < mask.length; i++) if (mask[i]) out.push(i);
  return out;
}

/**
 * Positions (ascending) of the rows of `column` whose stamp is present but not the stamp of the
 * inputs' current stored samples: changed by a writer that bypassed per-row lineage. Reads every
 * input sample (no decode).
 */
export async function verifyStamps(core: LineageSource, column: string, signal?: AbortSignal): Promise<number[]> {
  const stamps = stampColumnOf(core, column);
  const inputs = lineageInputs(core.columnManifest(column).meta);
  if (stamps === undefined || inputs === undefined) return [];
  const out: number[] = [];
  const dec = new TextDecoder();
  for await (const run of core.reader(stamps).scan(0, core.manifest.length, { signal })) {
    for (let j = 0; j < run.samples.length; j++) {
      const s = run.samples[j];
      if (!s) continue;
      const row = run.start + j;
      const stored = dec.decode(s.bytes);
      if (stored === UNREADABLE_STAMP) continue;
      if ((await stampsOf(core, inputs, [row], signal))[0] !== stored) out.push(row);
    }
  }
  return out;
}

/** The stamp of a row whose stored source sample is damaged (computed: its failure is recorded). */
export const UNREADABLE_STAMP = 'unreadable';

/** What a read does with a stale derived value: read it as null (listed by `staleColumns`), or throw. */
export type OnStale = 'null' | 'error';

/** The error a read with `onStale: 'error'` throws. */
export function staleError(core: LineageSource, column: string, row: number): StrataError {
  return new StrataError(
    'CONFLICT',
    `row ${row} of ${column} in ${core.uri} is stale: an input changed (or the row was added) after it was computed`,
    {
      uri: core.uri,
      column,
      row,
      stale: true,
      hint: `run ds.refresh('${column}') or \`strata refresh ${core.uri} ${column}\` to recompute the stale rows`,
    },
  );
}

/**
 * Applies per-row lineage to values of `column` read at `rows` (null: positions 0, 1, …): stale
 * values become null (or CONFLICT with `onStale: 'error'`). Returns the indexes that were stale.
 */
export async function maskStale(
  core: LineageSource,
  column: string,
  rows: ArrayLike<number> | null,
  values: unknown[],
  onStale: OnStale,
  signal?: AbortSignal,
): Promise<number[]> {
  const mask = await staleMask(core, column, signal);
  if (!mask) return [];
  const stale: number[] = [];
  for (let j = 0; j < values.length; j++) {
    const row = rows ? rows[j] : j;
    if (!mask[row]) continue;
    if (onStale === 'error') throw staleError(core, column, row);
    values[j] = null;
    stale.push(j);
  }
  return stale;
}

/** True when `c` is a stamp column (hidden; filled only by the jobs of its derived column). */
export function isStampColumn(c: ColumnSchema): boolean {
  return (c.meta.lineage as { kind?: unknown } | undefined)?.kind === ROW_LINEAGE_KIND;
}

/** The symbol under which `row()` lists the stale derived columns of a row (see `staleColumns`). */
export const STALE_COLUMNS: unique symbol = Symbol.for('strata.staleColumns');

/**
 * The derived columns whose value in `row` (from `Dataset.row` or `iterRows`) was stale and so
 * read as null: an input changed, or the row was appended, after the value was computed.
 */
export function staleColumns(row: object): readonly string[] {
  return (row as { [STALE_COLUMNS]?: readonly string[] })[STALE_COLUMNS] ?? [];
}

/**
 * For each position in `rows`, the columns (of `columns`) whose value there is stale (one stale
 * mask per column, read once; see staleMask).
 */
export async function staleAt(
  core: LineageSource,
  columns: readonly string[],
  rows: ArrayLike<number>,
  signal?: AbortSignal,
): Promise<string[][]> {
  const masks = await Promise.all(columns.map((c) => staleMask(core, c, signal)));
  return Array.from(rows, (row) => columns.filter((_, k) => masks[k]?.[row] === 1));
}

/** Marks `row` with the stale columns (a non-enumerable symbol: spreads and JSON do not see it). */
export function markStale(row: object, columns: readonly string[]): void {
  if (columns.length) Object.defineProperty(row, STALE_COLUMNS, { value: columns, enumerable: false });
}
