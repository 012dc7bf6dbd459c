import { StrataError } from '../../errors.js';
import type { Progress } from '../../progress.js';
import type { DatasetCore } from '../core.js';
import { clearValues } from '../ops/mutate.js';
import { stampColumnOf, staleRows, verifyStamps } from './row-lineage.js';

/** Options of `Dataset.refresh(column)`; refreshers of other column kinds take more (embedding: `model`, …). */
export interface RefreshColumnOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Also recompute rows whose stamp does not match their inputs' current bytes (reads every input sample). */
  readonly verify?: boolean;
  readonly [option: string]: unknown;
}

/** What a refresh did. */
export interface RefreshSummary {
  readonly column: string;
  /** Stale rows found (inputs changed, rows appended, values written by hand). */
  readonly stale: number;
  /** Rows recomputed (for an embedding column: model runs, one per row). */
  readonly recomputed: number;
  /** The version published (the open one when nothing was stale). */
  readonly version: number;
  /** Of `stale`, rows whose value was written by hand, cleared in a commit of their own first. */
  readonly cleared: number;
  /** Of `stale`, rows left stale because one of their inputs is a stale derived value: refresh that column first. */
  readonly waiting?: number;
}

/**
 * Recomputes the stale rows of one kind of derived column (`lineage.kind` in its metadata). The
 * embedding job registers 'strata.embedding' when src/embed is loaded; src/dataset cannot import it.
 */
export type Refresher<D> = (ds: D, column: string, options: RefreshColumnOptions) => Promise<RefreshSummary>;

const refreshers = new Map<string, Refresher<never>>();

/** Registers how columns whose lineage has `kind` are refreshed (src/embed does so for embeddings). */
export function registerRefresher<D>(kind: string, refresher: Refresher<D>): void {
  refreshers.set(kind, refresher);
}

/** The refresher of `column`'s lineage kind; UNSUPPORTED when none is registered or the column is not derived. */
export function refresherFor<D>(core: DatasetCore, column: string): Refresher<D> {
  const lineage = core.columnManifest(column).meta.lineage as { kind?: unknown } | undefined;
  const kind = typeof lineage?.kind === 'string' ? lineage.kind : undefined;
  const r = kind === undefined ? undefined : refreshers.get(kind);
  if (!r) {
    throw new StrataError(
      'UNSUPPORTED',
      kind === undefined
        ? `column ${column} of ${core.uri} is not a derived column (no lineage): nothing to refresh`
        : `no refresher for ${column} of ${core.uri} (lineage kind ${kind}) is loaded`,
      {
        uri: core.uri,
        column,
        hint:
          kind === 'strata.embedding'
            ? "import 'strata' (or its embed module) so embedding columns can refresh, or run `strata refresh`"
            : 'refresh columns made by derive() or embed()',
      },
    );
  }
  return r as Refresher<D>;
}

/**
 * Makes every stale row of `column` fillable: rows whose value was written by hand (append or
 * update given a value) have it, and fills cannot overwrite, so they are rewritten without it in
 * one commit of their own (same row ids). With `verify`, so are rows whose stamp does not match
 * their inputs' current bytes. Returns how many were cleared; then the stale rows are exactly the
 * rows without a value.
 */
export async function clearHandWritten(
  core: DatasetCore,
  column: string,
  options: { readonly verify?: boolean; readonly signal?: AbortSignal } = {},
): Promise<number> {
  const { signal } = options;
  const stamps = stampColumnOf(core, column);
  if (stamps === undefined) return 0;
  const id = core.columnManifest(column).id;
  // with `verify`: rows whose stamp is not their inputs' (a writer bypassed per-row lineage)
  const covered: number[] = options.verify ? await verifyStamps(core, column, signal) : [];
  for (const p of await staleRows(core, column, signal)) {
    const loc = await core.version.locate(p, signal);
    const segs = (await core.version.fragment(loc.slot.ref, signal)).columns[id] ?? [];
    if (segs.some((s) => loc.offset >= s.offset && loc.offset < s.offset + s.rows)) covered.push(p);
  }
  if (covered.length === 0) return 0;
  covered.sort((a, b) => a - b);
  const message = `refresh ${column}: clear ${covered.length} values not computed from their inputs`;
  core.transaction(signal);
  try {
    await clearValues(core, covered, new Set([column, stamps]), signal);
    await core.commit(message);
  } catch (err) {
    await core.rollback();
    throw err;
  }
  return covered.length;
}

/** INVALID_ARGUMENT unless the dataset has no uncommitted changes (refresh commits). */
export function assertNoPending(core: DatasetCore, op: string): void {
  if (core.hasPendingChanges) {
    throw new StrataError('INVALID_ARGUMENT', `${op} needs a dataset without uncommitted changes (${core.uri})`, {
      uri: core.uri,
      hint: 'commit() or rollback() first: refresh publishes its own commit',
    });
  }
}
