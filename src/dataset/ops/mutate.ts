import { StrataError, throwIfAborted } from '../../errors.js';
import type { Sample } from '../../format/chunk.js';
import type { DatasetCore } from '../core.js';
import { codecFor } from '../htypes/index.js';
import { lineageInputs } from '../derived/row-lineage.js';
import { infoColumnName, isHiddenColumn } from '../schema.js';
import { type RowMatch, type RowPredicate, filterRows } from '../verbs/filter.js';

/** Rows to delete or update: a filter (`filter`'s predicate or match object) or explicit row ids. */
export type RowSelector = RowPredicate | RowMatch | { readonly rowIds: readonly number[] };

/** New values for some columns of a row, or a function computing them from the row. */
export type RowChanges =
  Readonly<Record<string, unknown>> | ((row: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>);

export interface MergeResult {
  /** Existing rows rewritten with the values of a matching input row. */
  readonly updated: number;
  /** Input rows appended because no row had their key. */
  readonly inserted: number;
}

type Encoded = Record<string, Sample | null | undefined>;

/** Positions (ascending, distinct) of the rows `selector` picks in the open version. */
export async function selectRows(core: DatasetCore, selector: RowSelector, signal?: AbortSignal): Promise<number[]> {
  if (isRowIds(core, selector)) {
    const out = new Set<number>();
    for (const id of selector.rowIds) {
      const pos = Number.isSafeInteger(id) ? await core.version.positionOf(id, signal) : undefined;
      if (pos === undefined) {
        throw new StrataError(
          'NOT_FOUND',
          `row id ${id} is not a live row of ${core.uri} (version ${core.version.version})`,
          {
            row: id,
            uri: core.uri,
            hint: 'take ids from ds.rowIds() of the version you change',
          },
        );
      }
      out.add(pos);
    }
    return [...out].sort((a, b) => a - b);
  }
  if (
    typeof selector !== 'function' &&
    (typeof selector !== 'object' || selector === null || Array.isArray(selector))
  ) {
    throw new StrataError('INVALID_ARGUMENT', 'expected a row predicate, a match object or { rowIds }', {
      hint: "e.g. ds.delete(r => r.label === 'cat'), ds.delete({ label: 'cat' }) or ds.delete({ rowIds: [3, 7] })",
    });
  }
  const all = Uint32Array.from({ length: core.manifest.length }, (_, i) => i);
  return Array.from(await filterRows(core, all, core.visibleColumns(), selector, signal));
}

function isRowIds(core: DatasetCore, s: RowSelector): s is { readonly rowIds: readonly number[] } {
  return (
    typeof s === 'object' &&
    s !== null &&
    Object.keys(s).length === 1 &&
    Array.isArray((s as { rowIds?: unknown }).rowIds) &&
    !core.manifest.columns.some((c) => c.name === 'rowIds')
  );
}

/** Deletes the selected rows in one commit; returns how many. */
export async function deleteRows(core: DatasetCore, selector: RowSelector, signal?: AbortSignal): Promise<number> {
  assertNoPending(core, 'delete');
  const positions = await selectRows(core, selector, signal);
  if (positions.length === 0) return 0;
  await inOneCommit(core, signal, `delete ${positions.length} rows`, async () => {
    const txn = core.transaction(signal);
    for (const p of positions) await txn.deleteRow(p);
  });
  return positions.length;
}

/**
 * Updates the selected rows in one commit: each gets a new copy (with `changes` applied) that
 * keeps its row id, appended at the end; the old rows are deleted. Returns how many.
 */
export async function updateRows(
  core: DatasetCore,
  selector: RowSelector,
  changes: RowChanges,
  signal?: AbortSignal,
): Promise<number> {
  assertNoPending(core, 'update');
  if (typeof changes !== 'function') checkChanges(changes, 'update');
  const positions = await selectRows(core, selector, signal);
  if (positions.length === 0) return 0;
  await inOneCommit(core, signal, `update ${positions.length} rows`, async () => {
    const pendingMeta = new Map<string, Record<string, unknown>>();
    const encoded: Encoded[] = [];
    for (const p of positions) {
      throwIfAborted(signal, 'update');
      let next = changes;
      if (typeof changes === 'function') {
        const before = await decodedRow(core, p, signal);
        next = changes(before);
        checkChanges(next, 'update');
        // values handed back unchanged (e.g. `r => ({ ...r, caption })` with its media cells) are not re-encoded
        next = Object.fromEntries(Object.entries(next).filter(([k, v]) => !(k in before) || before[k] !== v));
      }
      checkChanges(next, 'update');
      encoded.push(await updatedRow(core, p, next, pendingMeta, signal));
    }
    await writeUpdates(core, positions, encoded, pendingMeta);
  });
  return positions.length;
}

/**
 * Lance's merge_insert: rows whose `on` value matches existing rows update them (keeping their row
 * ids), the others are appended; one commit. Keys must be present and distinct within `rows`.
 */
export async function mergeRows(
  core: DatasetCore,
  rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
  on: string,
  signal?: AbortSignal,
): Promise<MergeResult> {
  assertNoPending(core, 'merge');
  if (!Array.isArray(rows)) {
    throw new StrataError('INVALID_ARGUMENT', 'merge: expected an array of rows', {
      hint: "merge([{ id: 1, ... }], { on: 'id' })",
    });
  }
  const c = core.columnManifest(on);
  if (codecFor(c.htype, on).media || isHiddenColumn(on)) {
    throw new StrataError('INVALID_ARGUMENT', `merge: column ${on} cannot be a merge key (it holds media)`, {
      column: on,
      hint: 'merge on a tabular column such as an id or a file name',
    });
  }
  const existing = new Map<unknown, number[]>();
  (await core.columnValues(on, signal)).forEach((v, p) => {
    if (v === null || v === undefined) return;
    const k = keyOf(v);
    const list = existing.get(k);
    if (list) list.push(p);
    else existing.set(k, [p]);
  });
  const seen = new Set<unknown>();
  const updates: { pos: number; row: Readonly<Record<string, unknown>> }[] = [];
  const inserts: Readonly<Record<string, unknown>>[] = [];
  rows.forEach((row, i) => {
    checkChanges(row, 'merge', i);
    const v = row[on];
    if (v === null || v === undefined) {
      throw new StrataError('INVALID_ARGUMENT', `merge: row ${i} has no value for the key column ${on}`, {
        row: i,
        column: on,
      });
    }
    const k = keyOf(v);
    if (seen.has(k)) {
      throw new StrataError('INVALID_ARGUMENT', `merge: rows share the key ${on} = ${JSON.stringify(v)} (row ${i})`, {
        row: i,
        column: on,
        hint: 'pass each key once',
      });
    }
    seen.add(k);
    const matches = existing.get(k);
    if (matches) for (const pos of matches) updates.push({ pos, row });
    else inserts.push(row);
  });
  if (updates.length === 0 && inserts.length === 0) return { updated: 0, inserted: 0 };
  updates.sort((a, b) => a.pos - b.pos);
  const message = `merge on ${on}: ${updates.length} updated, ${inserts.length} inserted`;
  await inOneCommit(core, signal, message, async () => {
    const pendingMeta = new Map<string, Record<string, unknown>>();
    const encoded: Encoded[] = [];
    for (const u of updates) encoded.push(await updatedRow(core, u.pos, u.row, pendingMeta, signal));
    const first = core.manifest.length;
    const fresh: Encoded[] = [];
    for (let i = 0; i < inserts.length; i++) fresh.push(await core.encodeRow(inserts[i], first + i, pendingMeta));
    await writeUpdates(
      core,
      updates.map((u) => u.pos),
      encoded,
      pendingMeta,
    );
    const txn = core.transaction(signal);
    for (const row of fresh) await txn.appendRow(row);
  });
  return { updated: updates.length, inserted: inserts.length };
}

/** Deletes the rows at `positions` and appends their new copies (same row ids). */
async function writeUpdates(
  core: DatasetCore,
  positions: readonly number[],
  encoded: readonly Encoded[],
  pendingMeta: Map<string, Record<string, unknown>>,
): Promise<void> {
  const txn = core.transaction();
  for (const [name, meta] of pendingMeta) txn.setColumnMeta(name, meta);
  for (let j = 0; j < positions.length; j++) {
    const rowId = await txn.deleteRow(positions[j]);
    await txn.appendRow(encoded[j], { rowId });
  }
}

/**
 * The stored samples of row `pos` with `changes` encoded over them. Derived columns computed from
 * a changed column (their lineage's `sourceColumn` or `inputs`), and those in `clear`, are left
 * without a value (the job that derives them fills it again); so is the per-row lineage (stamp)
 * of a derived column written by hand.
 */
async function updatedRow(
  core: DatasetCore,
  pos: number,
  changes: Readonly<Record<string, unknown>>,
  pendingMeta: Map<string, Record<string, unknown>>,
  signal?: AbortSignal,
  clear?: ReadonlySet<string>,
): Promise<Encoded> {
  const fresh = await core.encodeRow(changes, pos, pendingMeta);
  const changed = new Set<string>();
  for (const name of Object.keys(changes)) {
    changed.add(name);
    if (core.isMedia(name)) changed.add(infoColumnName(name));
  }
  // derived columns to clear: those computed from a changed column, or from one cleared here (a
  // column derived from an embedding loses its value with the embedding), to a fixpoint
  const cleared = new Set<string>(clear);
  for (let grew = true; grew;) {
    grew = false;
    for (const c of core.manifest.columns) {
      if (changed.has(c.name) || cleared.has(c.name) || c.meta.lineage === undefined) continue;
      const inputs = lineageInputs(c.meta);
      if (inputs === undefined || inputs.some((i) => changed.has(i) || cleared.has(i))) {
        cleared.add(c.name);
        grew = true;
      }
    }
  }
  const out: Encoded = {};
  for (const c of core.manifest.columns) {
    if (changed.has(c.name)) {
      out[c.name] = fresh[c.name] ?? null;
      continue;
    }
    const lineage = c.meta.lineage;
    if (cleared.has(c.name)) {
      out[c.name] = undefined;
      continue;
    }
    const s = await core.reader(c.name).sample(pos, signal);
    out[c.name] = s ?? (lineage ? undefined : null);
  }
  return out;
}

async function decodedRow(core: DatasetCore, pos: number, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const c of core.visibleColumns()) out[c] = (await core.readCells(c, [pos], signal))[0];
  return out;
}

/**
 * Rewrites the rows at `positions` (same values and row ids, moved to the end) with the columns in
 * `clear` left without a value, in the pending transaction (see `refresh`: values of a derived
 * column written by hand, which fills cannot overwrite).
 */
export async function clearValues(
  core: DatasetCore,
  positions: readonly number[],
  clear: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<void> {
  const pendingMeta = new Map<string, Record<string, unknown>>();
  const encoded: Encoded[] = [];
  for (const p of positions) encoded.push(await updatedRow(core, p, {}, pendingMeta, signal, clear));
  await writeUpdates(core, positions, encoded, pendingMeta);
}

/** Runs `write` on a fresh transaction and commits it; on any failure nothing is published. */
async function inOneCommit(
  core: DatasetCore,
  signal: AbortSignal | undefined,
  message: string,
  write: () => Promise<void>,
): Promise<void> {
  // inside ds.transaction(): staged with the transaction's other changes, published by its commit
  if (core.inExplicitTransaction) return write();
  core.transaction(signal);
  try {
    await write();
    throwIfAborted(signal, message);
    await core.commit(message);
  } catch (err) {
    await core.rollback();
    throw err;
  }
}

function assertNoPending(core: DatasetCore, op: string): void {
  if (core.hasPendingChanges && !core.inExplicitTransaction) {
    throw new StrataError('INVALID_ARGUMENT', `${op} needs a dataset without uncommitted changes (${core.uri})`, {
      uri: core.uri,
      hint: 'commit() or rollback() first: each delete, update and merge is its own commit',
    });
  }
}

function checkChanges(v: unknown, op: string, row?: number): asserts v is Readonly<Record<string, unknown>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `${op}: expected an object keyed by column name${row === undefined ? '' : ` (row ${row})`}`,
      {
        row,
        hint: `got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`,
      },
    );
  }
}

function keyOf(v: unknown): unknown {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
}
