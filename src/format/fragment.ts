import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { statsProblem } from './chunk-stats.js';
import { decodeCheckedJson, encodeCheckedJson } from './json-file.js';
import type { ChunkRef } from './manifest.js';
import { isChunkKey } from './manifest-check.js';

/** A run of rows [offset, offset + rows) of one column inside a fragment, stored in `chunks`. */
export interface Segment {
  readonly offset: number;
  readonly rows: number;
  readonly chunks: readonly ChunkRef[];
  /** Fragment-local column information. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * An immutable fragment file: its rows and, per column id, sorted non-overlapping segments. Rows
 * no segment covers are "not computed yet" and read as null.
 */
export interface FragmentFile {
  readonly rows: number;
  /** null: row ids are rowIdStart.. of the ref; otherwise [start, count] runs. */
  readonly rowIds: null | readonly (readonly [number, number])[];
  readonly columns: Readonly<Record<string, readonly Segment[]>>;
}

export function encodeFragment(f: FragmentFile): Uint8Array {
  return encodeCheckedJson(f);
}

export function decodeFragment(bytes: Uint8Array, key: string): FragmentFile {
  const f = decodeCheckedJson<FragmentFile>(bytes, key, 'fragment');
  if (!Number.isSafeInteger(f.rows) || f.rows < 0 || !f.columns || typeof f.columns !== 'object') {
    throw new StrataError('CORRUPT', `fragment ${key} is not a Strata fragment`, {
      key,
      hint: 'open an earlier version',
    });
  }
  if (f.rowIds !== null) checkRowIds(key, f.rows, f.rowIds);
  for (const [column, segments] of Object.entries(f.columns)) checkSegments(key, f.rows, column, segments);
  return f;
}

/** Row id runs are [start, count] pairs of safe non-negative integers covering exactly `rows`. */
function checkRowIds(key: string, rows: number, runs: unknown): void {
  let total = 0;
  const ok =
    Array.isArray(runs) &&
    runs.every((r: unknown) => {
      if (!Array.isArray(r) || r.length !== 2) return false;
      const [start, count] = r as unknown[];
      if (
        !Number.isSafeInteger(start) ||
        !Number.isSafeInteger(count) ||
        (start as number) < 0 ||
        (count as number) < 1
      )
        return false;
      total += count as number;
      return true;
    });
  if (!ok || total !== rows) {
    throw new StrataError('CORRUPT', `fragment ${key} is damaged: its row ids do not cover its ${rows} rows`, {
      key,
      field: 'rowIds',
      hint: 'open an earlier version (see versions()) or restore the fragment from a backup',
    });
  }
}

/** Row ids (ascending within each run, in row order) as [start, count] runs. */
export function rowIdRuns(ids: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const id of ids) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === id) last[1]++;
    else runs.push([id, 1]);
  }
  return runs;
}

/**
 * Segments lie inside the fragment, in order, without overlap; each holds exactly the samples of its
 * chunks, and every chunk key is a relative key below `chunks/` (never absolute, never `..`).
 */
function checkSegments(key: string, rows: number, column: string, segments: unknown): void {
  const bad = (what: string): StrataError =>
    new StrataError('CORRUPT', `fragment ${key} is damaged: column ${column}: ${what}`, {
      key,
      column,
      hint: 'open an earlier version (see versions()) or restore the fragment from a backup',
    });
  if (!Array.isArray(segments)) throw bad('segments are not a list');
  let end = 0;
  for (const s of segments as Segment[]) {
    if (!Number.isSafeInteger(s?.offset) || !Number.isSafeInteger(s.rows) || s.offset < end || s.rows < 0)
      throw bad(`segment at ${String(s?.offset)} overlaps or is out of order`);
    end = s.offset + s.rows;
    if (end > rows) throw bad(`segment [${s.offset}, ${end}) runs past the fragment's ${rows} rows`);
    if (!Array.isArray(s.chunks)) throw bad(`segment at ${s.offset} has no chunk list`);
    let samples = 0;
    for (const c of s.chunks as readonly (Partial<ChunkRef> | null)[]) {
      if (typeof c?.key !== 'string' || !isChunkKey(c.key))
        throw bad(`${JSON.stringify(c?.key)} is not a relative key below chunks/`);
      const n = c.samples;
      if (n === undefined || !Number.isSafeInteger(n) || n < 0) throw bad(`chunk ${c.key} has no sample count`);
      samples += n;
      if (c.stats !== undefined) {
        const problem = statsProblem(c.stats, n);
        if (problem) throw bad(`chunk ${c.key}: ${problem}`);
      }
    }
    if (samples !== s.rows) throw bad(`segment at ${s.offset} has ${s.rows} rows but its chunks hold ${samples}`);
  }
}

export async function readFragment(storage: Storage, key: string, signal?: AbortSignal): Promise<FragmentFile> {
  return decodeFragment(await storage.get(key, { signal }), key);
}

/** Rows of one column covered from the fragment's start without a gap. */
export function coveredPrefix(f: FragmentFile, columnId: string): number {
  let end = 0;
  for (const s of f.columns[columnId] ?? []) {
    if (s.offset !== end) break;
    end += s.rows;
  }
  return end;
}

/** A copy of `f` with `added` segments merged in; CONFLICT when they overlap existing ones. */
export function withSegments(
  f: FragmentFile,
  columnId: string,
  added: readonly Segment[],
  label: string,
): FragmentFile {
  const all = [...(f.columns[columnId] ?? []), ...added].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < all.length; i++) {
    if (all[i].offset < all[i - 1].offset + all[i - 1].rows) {
      throw new StrataError('CONFLICT', `rows ${all[i].offset}.. of ${label} already have values`, {
        column: label,
        row: all[i].offset,
        hint: 'reopen the dataset and fill only rows without values',
      });
    }
  }
  const last = all.at(-1);
  if (last && last.offset + last.rows > f.rows) {
    throw new StrataError('INVALID_ARGUMENT', `segment of ${label} runs past the fragment's ${f.rows} rows`, {
      column: label,
    });
  }
  return { ...f, columns: { ...f.columns, [columnId]: all } };
}
