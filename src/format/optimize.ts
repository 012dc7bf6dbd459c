import { StrataError, throwIfAborted } from '../errors.js';
import type { Progress } from '../progress.js';
import type { Storage } from '../storage/storage.js';
import type { Action } from './actions.js';
import { ColumnWriter, DEFAULT_CHUNK_SIZE_BYTES } from './column-writer.js';
import { commitActions } from './commit.js';
import { type FragmentFile, type Segment, encodeFragment } from './fragment.js';
import { type AnyManifest, type ColumnSchema, isV2 } from './manifest-v2.js';
import { newFragmentKey } from './object-keys.js';
import type { Ref } from './refs.js';
import { VersionColumnReader } from './version-column-reader.js';
import type { FragmentSlot, VersionReader } from './version-reader.js';

export interface OptimizeOptions {
  /** Identifies the writer in the manifest. */
  readonly writer: string;
  /** Target size of the rewritten chunks. Default 8 MiB. */
  readonly targetChunkBytes?: number;
  /** Rows per rewritten fragment (at most). Default 1 048 576. */
  readonly targetFragmentRows?: number;
  /**
   * A fragment whose deleted rows exceed this fraction of its rows is rewritten without them even
   * when it is large or has no small neighbour (Lance's `materialize_deletions_threshold`). Default 0.1.
   */
  readonly maxDeletedFraction?: number;
  readonly maxCommitAttempts?: number;
  readonly commitTimeoutMs?: number;
  /** The ref `base` is a version of (main or a branch): the compaction is its next version. Default main. */
  readonly ref?: Ref;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

export interface OptimizeResult {
  /** The manifest now latest (the base's when there was nothing to compact). */
  readonly manifest: AnyManifest;
  readonly fragmentsRemoved: number;
  readonly fragmentsAdded: number;
  readonly rowsRewritten: number;
}

/**
 * Compacts `base`: runs of adjacent fragments whose live rows fit in `targetFragmentRows` are
 * rewritten as one fragment each, with chunks of about `targetChunkBytes`, and published as ONE
 * commit of `rewrite` actions; a fragment with more than `maxDeletedFraction` of its rows deleted
 * is rewritten even alone. Only live rows are copied (a rewritten fragment has no deletion file,
 * so the old one becomes garbage for vacuum); they keep their row ids and their order, and rows no
 * segment covers stay uncovered. A group whose rows are all deleted is removed without a
 * replacement. The commit rebases over concurrent appends and over changes to other fragments; a
 * fill, delete or update of a rewritten fragment makes one of the two commits CONFLICT.
 */
export async function optimize(
  storage: Storage,
  base: VersionReader,
  options: OptimizeOptions,
): Promise<OptimizeResult> {
  const target = options.targetFragmentRows ?? 1 << 20;
  const maxDeleted = options.maxDeletedFraction ?? 0.1;
  if (!(maxDeleted >= 0 && maxDeleted <= 1)) {
    throw new StrataError('INVALID_ARGUMENT', `maxDeletedFraction must be in [0, 1], got ${maxDeleted}`, {
      field: 'maxDeletedFraction',
      hint: 'pass a fraction such as 0.1',
    });
  }
  const none = { manifest: base.manifest, fragmentsRemoved: 0, fragmentsAdded: 0, rowsRewritten: 0 };
  if (!isV2(base.manifest)) return none;
  const groups = plan(await base.allFragments(options.signal), target, maxDeleted);
  const total = groups.reduce((n, g) => n + g.length, 0);
  if (total === 0) return none;
  const actions: Action[] = [];
  let done = 0;
  let rows = 0;
  let added = 0;
  for (const group of groups) {
    throwIfAborted(options.signal, 'optimize');
    const file = await rewriteGroup(storage, base, group, options);
    const newFragments: { key: string; rows: number }[] = [];
    if (file.rows > 0) {
      const key = newFragmentKey();
      await storage.put(key, encodeFragment(file), { signal: options.signal, contentType: 'application/json' });
      newFragments.push({ key, rows: file.rows });
    }
    actions.push({ type: 'rewrite', fragmentIds: group.map((s) => s.ref.id), newFragments });
    rows += file.rows;
    added += newFragments.length;
    done += group.length;
    options.onProgress?.({ phase: 'optimize', done, total, unit: 'fragments' });
  }
  const manifest = await commitActions(storage, base.manifest, actions, {
    writer: options.writer,
    message: `optimize: ${total} fragments into ${added}`,
    columnsWithData: new Set(),
    refill: () => Promise.reject(new Error('optimize commits no fills')),
    maxCommitAttempts: options.maxCommitAttempts,
    commitTimeoutMs: options.commitTimeoutMs,
    signal: options.signal,
    ref: options.ref,
  });
  return { manifest, fragmentsRemoved: total, fragmentsAdded: added, rowsRewritten: rows };
}

/**
 * Runs of adjacent fragments with at most `target` live rows together: of ≥ 2 fragments, or of one
 * with more than `maxDeleted` of its rows deleted (such a fragment is also rewritten alone when large).
 */
function plan(slots: readonly FragmentSlot[], target: number, maxDeleted: number): FragmentSlot[][] {
  const groups: FragmentSlot[][] = [];
  let run: FragmentSlot[] = [];
  let rows = 0;
  let purge = false;
  const close = () => {
    if (run.length >= 2 || (run.length === 1 && purge)) groups.push(run);
    run = [];
    rows = 0;
    purge = false;
  };
  for (const s of slots) {
    const live = s.ref.rows - s.ref.deleted;
    const mostlyDeleted = s.ref.deleted > 0 && s.ref.deleted > maxDeleted * s.ref.rows;
    if (rows + live > target) close();
    if (live >= target) {
      close();
      if (mostlyDeleted) groups.push([s]);
      continue;
    }
    run.push(s);
    rows += live;
    purge ||= mostlyDeleted;
  }
  close();
  return groups;
}

/** One fragment file holding the live rows of `group` in order, with their row ids. */
async function rewriteGroup(
  storage: Storage,
  base: VersionReader,
  group: readonly FragmentSlot[],
  options: OptimizeOptions,
): Promise<FragmentFile> {
  const ids: number[] = [];
  for (const s of group) ids.push(...(await base.rowIdsOf(s, options.signal)));
  const columns: Record<string, Segment[]> = {};
  for (const c of base.schema) {
    const segs = await rewriteColumn(storage, base, c, group, options);
    if (segs.length > 0) columns[c.id] = segs;
  }
  return { rows: ids.length, rowIds: runsOf(ids), columns };
}

/** The column's covered rows of `group` re-chunked: one segment per run of covered rows with equal meta. */
async function rewriteColumn(
  storage: Storage,
  base: VersionReader,
  column: ColumnSchema,
  group: readonly FragmentSlot[],
  options: OptimizeOptions,
): Promise<Segment[]> {
  const reader = new VersionColumnReader(base, column);
  const out: Segment[] = [];
  let run: { offset: number; writer: ColumnWriter; meta: Segment['meta'] } | undefined;
  const finish = async () => {
    if (!run) return;
    const { chunks } = await run.writer.finish();
    out.push({ offset: run.offset, rows: run.writer.count, chunks, ...(run.meta ? { meta: run.meta } : {}) });
    run = undefined;
  };
  let at = 0; // row of the new fragment where this slot starts
  for (const slot of group) {
    const file = await base.fragment(slot.ref, options.signal);
    const dv = await base.deletions(slot.ref, options.signal);
    for (const seg of file.columns[column.id] ?? []) {
      // the segment's live rows: positions slot.start + [first, end) of the version
      const first = dv.liveBefore(seg.offset);
      const end = dv.liveBefore(seg.offset + seg.rows);
      if (end === first) continue;
      const offset = at + first;
      if (!run || run.offset + run.writer.count !== offset || JSON.stringify(run.meta) !== JSON.stringify(seg.meta)) {
        await finish();
        run = {
          offset,
          meta: seg.meta,
          writer: new ColumnWriter(
            storage,
            { ...column, length: 0, chunks: [] },
            {
              chunkSizeBytes: options.targetChunkBytes ?? DEFAULT_CHUNK_SIZE_BYTES,
              signal: options.signal,
            },
          ),
        };
      }
      for await (const r of reader.scan(slot.start + first, slot.start + end, { signal: options.signal }))
        for (const sample of r.samples) await run.writer.append(sample);
    }
    at += slot.ref.rows - slot.ref.deleted;
  }
  await finish();
  return out;
}

/** [start, count] runs of consecutive ids. */
function runsOf(ids: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const id of ids) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === id) last[1]++;
    else runs.push([id, 1]);
  }
  return runs;
}
