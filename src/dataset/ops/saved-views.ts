import { StrataError, isStrataError } from '../../errors.js';
import { decodeCheckedJson, encodeCheckedJson } from '../../format/json-file.js';
import { validateRefName } from '../../format/refs.js';
import type { DatasetCore } from '../core.js';

/** Where saved views live: `views/<name>.json`, next to `tags/` (not versions; vacuum leaves them). */
export const VIEWS_PREFIX = 'views/';

/**
 * A saved view (Deep Lake's `save_view`): the stable row ids of a view's rows in order, its
 * columns, and the version it was taken at. Loading it on a later version finds the same rows by
 * id — updated rows included, deleted ones gone — so a train/validation split survives appends,
 * updates and compaction.
 */
export interface SavedView {
  readonly name: string;
  readonly version: number;
  readonly branch: string | null;
  readonly timestampMs: number;
  /** Stored column names of the view; null for every column of the dataset. */
  readonly columns: readonly string[] | null;
  readonly rowIds: readonly number[];
}

function keyOf(name: string): string {
  try {
    validateRefName(name, 'tag');
  } catch (err) {
    throw new StrataError('INVALID_ARGUMENT', `view name ${JSON.stringify(name)} is not allowed`, {
      field: 'name',
      hint: 'use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
      cause: err,
    });
  }
  return `${VIEWS_PREFIX}${name}.json`;
}

/** Writes `view` as `name` (put-if-absent: CONFLICT when a view of that name exists). */
export async function writeSavedView(core: DatasetCore, view: SavedView, signal?: AbortSignal): Promise<void> {
  const key = keyOf(view.name);
  try {
    await core.storage.putIfAbsent(key, encodeCheckedJson(view), { signal, contentType: 'application/json' });
  } catch (err) {
    if (!isStrataError(err, 'CONFLICT')) throw err;
    throw new StrataError('CONFLICT', `view ${view.name} already exists in ${core.uri}`, {
      uri: core.uri,
      key,
      hint: 'delete it first (deleteView) or choose another name',
    });
  }
}

/** Saved view `name`; NOT_FOUND when absent, CORRUPT when damaged. */
export async function readSavedView(core: DatasetCore, name: string, signal?: AbortSignal): Promise<SavedView> {
  const key = keyOf(name);
  let bytes: Uint8Array;
  try {
    bytes = await core.storage.get(key, { signal });
  } catch (err) {
    if (!isStrataError(err, 'NOT_FOUND')) throw err;
    throw new StrataError('NOT_FOUND', `view ${name} does not exist in ${core.uri}`, {
      uri: core.uri,
      key,
      hint: 'list saved views with ds.savedViews()',
    });
  }
  const v = decodeCheckedJson<SavedView>(bytes, key, 'view');
  if (typeof v.name !== 'string' || !Array.isArray(v.rowIds) || !v.rowIds.every((x) => Number.isSafeInteger(x))) {
    throw new StrataError('CORRUPT', `view ${key} is not a Strata saved view`, {
      key,
      hint: 'delete it and save it again',
    });
  }
  return v;
}

/** Every saved view (without its row ids), by name. */
export async function listSavedViews(core: DatasetCore, signal?: AbortSignal): Promise<Omit<SavedView, 'rowIds'>[]> {
  const keys = (await core.storage.list(VIEWS_PREFIX, { signal })).filter((k) => /^views\/[^/]+\.json$/.test(k));
  const out: Omit<SavedView, 'rowIds'>[] = [];
  for (const k of keys.sort()) {
    const { rowIds, ...rest } = await readSavedView(core, k.slice(VIEWS_PREFIX.length, -'.json'.length), signal);
    void rowIds;
    out.push(rest);
  }
  return out;
}

export async function deleteSavedView(core: DatasetCore, name: string, signal?: AbortSignal): Promise<void> {
  await readSavedView(core, name, signal);
  await core.storage.delete(keyOf(name), { signal });
}

/** Positions in the open version of `rowIds`, in their order; ids of rows deleted since are skipped. */
export async function positionsOf(
  core: DatasetCore,
  rowIds: readonly number[],
  signal?: AbortSignal,
): Promise<number[]> {
  const v = core.version;
  const where = new Map<number, number>();
  for await (const slot of v.slots(0, v.length, signal)) {
    const ids = await v.rowIdsOf(slot, signal);
    for (let j = 0; j < ids.length; j++) where.set(ids[j], slot.start + j);
  }
  const out: number[] = [];
  for (const id of rowIds) {
    const p = where.get(id);
    if (p !== undefined) out.push(p);
  }
  return out;
}
