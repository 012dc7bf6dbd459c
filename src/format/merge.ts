import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Action } from './actions.js';
import { branchOrigin } from './branches.js';
import { type CommitOptions, catchUp, commitActions } from './commit.js';
import { type DeletionVector, readDeletion, writeDeletion } from './deletion.js';
import { encodeFragment, readFragment, rowIdRuns, withSegments } from './fragment.js';
import { readAnyManifest, readLatestAnyManifest, tryReadManifest, writeLatestHint } from './latest.js';
import { type AnyManifest, type FragmentRef, type ManifestV2, encodeManifestV2, isV2 } from './manifest-v2.js';
import { newFragmentKey } from './object-keys.js';
import { type Ref, branchRef, refLabel, refOf } from './refs.js';

export interface MergeOptions extends Pick<CommitOptions, 'maxCommitAttempts' | 'commitTimeoutMs' | 'signal'> {
  readonly writer: string;
  readonly message?: string;
}

export interface MergeResult {
  /** The target's new version (its latest, unchanged, when there is nothing new to merge). */
  readonly manifest: AnyManifest;
  /** True when the target had not moved since the fork and took the branch head as is. */
  readonly fastForward: boolean;
}

type Fill = Extract<Action, { type: 'fill' }>;

/**
 * Merges branch `name` into `target` (the ref it forked from). When the target has not moved since
 * the fork, publishes the branch head as the target's next version (fast-forward). Otherwise
 * replays the branch's recorded actions (versions 1…head) onto the target's latest through the
 * commit loop: CONFLICT naming what collided when they do not commute with what the target did.
 */
export async function mergeBranch(
  storage: Storage,
  name: string,
  target: Ref,
  options: MergeOptions,
): Promise<MergeResult> {
  const { signal } = options;
  const source = branchRef(name);
  const { origin, fork } = await branchOrigin(storage, name, signal);
  if (origin.branch !== target.branch) {
    throw new StrataError('UNSUPPORTED', `branch ${name} forked from ${refLabel(refOf(origin.branch))}`, {
      uri: storage.uri,
      hint: `merge it into the ref it forked from (${origin.branch ?? 'main'})`,
    });
  }
  const head = await readLatestAnyManifest(storage, signal, source);
  const actions: Action[] = [];
  for (let v = 1; v <= head.version; v++) {
    let m: AnyManifest;
    try {
      m = v === head.version ? head : await readAnyManifest(storage, v, signal, source);
    } catch (err) {
      if (!isStrataError(err, 'NOT_FOUND')) throw err;
      throw new StrataError('CONFLICT', `version ${v} of branch ${name} was vacuumed: its changes cannot be replayed`, {
        uri: storage.uri,
        key: source.versionKey(v),
        version: v,
        hint: 'merge branches within the vacuum retention window',
      });
    }
    if (isV2(m)) actions.push(...m.operation.actions);
  }
  const latest = await readLatestAnyManifest(storage, signal, target);
  if (actions.length === 0) return { manifest: latest, fastForward: true };
  // A branch is merged once: replaying it again would apply its commits twice.
  const alreadyMerged = (m: AnyManifest): boolean => {
    if (!isV2(m) || m.merged?.branch !== name) return false;
    if (m.merged.version === head.version) return true;
    throw new StrataError(
      'CONFLICT',
      `branch ${name} was already merged into ${refLabel(target)} (version ${m.version}, from its version ${m.merged.version})`,
      { uri: storage.uri, version: m.version, hint: 'create a new branch from the latest version for further changes' },
    );
  };
  for (let v = origin.version + 1; v <= latest.version; v++) {
    const m = v === latest.version ? latest : await tryReadManifest(storage, v, signal, target);
    if (m && alreadyMerged(m)) return { manifest: latest, fastForward: false };
  }
  const concurrentMerge = (m: ManifestV2): void => {
    if (alreadyMerged(m))
      throw new StrataError('CONFLICT', `branch ${name} was merged concurrently (version ${m.version})`, {
        uri: storage.uri,
        version: m.version,
        hint: 'reopen the dataset: the branch is merged',
      });
  };
  const merged = { branch: name, version: head.version };
  const message = options.message ?? `merge branch ${name}`;

  if (latest.version === origin.version && isV2(head)) {
    const { origin: _origin, ...content } = head;
    const next: ManifestV2 = {
      ...content,
      version: origin.version + 1,
      parent: origin.version,
      timestampMs: Date.now(),
      message,
      writer: options.writer,
      operation: { actions },
      readVersion: origin.version,
      merged,
    };
    try {
      await storage.putIfAbsent(target.versionKey(next.version), encodeManifestV2(next), {
        signal,
        contentType: 'application/json',
      });
      await writeLatestHint(storage, next.version, signal, target);
      return { manifest: next, fastForward: true };
    } catch (err) {
      if (!isStrataError(err, 'CONFLICT')) throw err; // the target moved meanwhile: replay
    }
  }

  // Fragments the branch appended get ids from the target's counter when replayed: shift the
  // fills, deletes and rewrites naming them. Rows the branch appended get row ids from the
  // target's counter too: files listing such ids (update copies, rewrites) are copied with them shifted.
  const firstNew = fork.nextFragmentId;
  const rowIds = new RowIdShifter(storage, fork.nextRowId, signal);
  const shifted = (base: AnyManifest): Promise<Action[]> => {
    const delta = (isV2(base) ? base.nextFragmentId : 0) - firstNew;
    const rowDelta = (isV2(base) ? base.nextRowId : base.length) - fork.nextRowId;
    const id = (x: number) => (x >= firstNew ? x + delta : x);
    const file = <F extends { key: string; ownRowIds?: true }>(f: F, listed: boolean) =>
      listed ? rowIds.shift(f.key, rowDelta).then((key) => ({ ...f, key })) : Promise.resolve(f);
    return Promise.all(
      actions.map(async (a): Promise<Action> => {
        if (a.type === 'fill' || a.type === 'delete') return { ...a, fragmentId: id(a.fragmentId) };
        if (a.type === 'rewrite') {
          const newFragments = await Promise.all(a.newFragments.map((f) => file(f, true)));
          return { ...a, fragmentIds: a.fragmentIds.map(id), newFragments };
        }
        if (a.type === 'append')
          return { ...a, fragments: await Promise.all(a.fragments.map((f) => file(f, !!f.ownRowIds))) };
        return a;
      }),
    );
  };
  // A fill or delete of a fragment the branch appended cannot collide with anything the target did.
  const checked = actions.filter((a) => !((a.type === 'fill' || a.type === 'delete') && a.fragmentId >= firstNew));
  const forkOnTarget: ManifestV2 = { ...fork, version: origin.version };
  const base = await catchUp(storage, forkOnTarget, checked, signal, target, latest.version, concurrentMerge);
  const columnsWithData = new Set(actions.flatMap((a) => (a.type === 'addColumn' ? [a.column.id] : [])));
  const manifest = await commitActions(storage, base, checked, {
    ...options,
    message,
    ref: target,
    actionsFor: shifted,
    columnsWithData,
    merged,
    inspect: concurrentMerge,
    refill: (a, currentKey) => refill(storage, a, currentKey, signal),
    redelete: (a, current) => redelete(storage, a, current, `${refLabel(target)} and branch ${name}`, signal),
  });
  return { manifest, fastForward: false };
}

/**
 * Copies of fragment files whose listed row ids include ids the branch assigned (≥ `firstNew`),
 * with those ids moved by the target's counter; a file listing none is used as is.
 */
class RowIdShifter {
  private readonly copies = new Map<string, Promise<string>>();

  constructor(
    private readonly storage: Storage,
    private readonly firstNew: number,
    private readonly signal?: AbortSignal,
  ) {}

  shift(key: string, delta: number): Promise<string> {
    if (delta === 0) return Promise.resolve(key);
    const memo = `${key} ${delta}`;
    let p = this.copies.get(memo);
    if (!p) {
      p = this.copy(key, delta);
      this.copies.set(memo, p);
      p.catch(() => this.copies.delete(memo));
    }
    return p;
  }

  private async copy(key: string, delta: number): Promise<string> {
    const file = await readFragment(this.storage, key, this.signal);
    if (!file.rowIds?.some(([start, count]) => start + count > this.firstNew)) return key;
    const ids: number[] = [];
    for (const [start, count] of file.rowIds)
      for (let k = 0; k < count; k++) ids.push(start + k >= this.firstNew ? start + k + delta : start + k);
    const out = newFragmentKey();
    await this.storage.put(out, encodeFragment({ ...file, rowIds: rowIdRuns(ids) }), {
      signal: this.signal,
      contentType: 'application/json',
    });
    return out;
  }
}

/** The target's current file of a fragment the branch filled, plus the segments the branch added. */
async function refill(storage: Storage, a: Fill, currentKey: string, signal?: AbortSignal): Promise<string> {
  const [before, after] = await Promise.all([
    readFragment(storage, a.baseKey, signal),
    readFragment(storage, a.newKey, signal),
  ]);
  let out = await readFragment(storage, currentKey, signal);
  for (const c of a.columns) {
    const old = before.columns[c] ?? [];
    const added = (after.columns[c] ?? []).filter((s) => !old.some((o) => o.offset === s.offset && o.rows === s.rows));
    out = withSegments(out, c, added, c);
  }
  const key = newFragmentKey();
  await storage.put(key, encodeFragment(out), { signal, contentType: 'application/json' });
  return key;
}

/**
 * A replayed branch delete whose fragment's deletions changed on the target since the fork: the
 * rows the branch deleted (its file minus its base) joined to the target's current deletions, or
 * CONFLICT when both sides deleted (or updated) one row.
 */
async function redelete(
  storage: Storage,
  a: Extract<Action, { type: 'delete' }>,
  current: FragmentRef,
  sides: string,
  signal?: AbortSignal,
): Promise<{ deletion: string; deleted: number }> {
  const read = (key: string | null): Promise<DeletionVector | undefined> =>
    key === null ? Promise.resolve(undefined) : readDeletion(storage, key, { rows: current.rows, signal });
  const [after, before, theirs] = await Promise.all([read(a.deletion), read(a.baseDeletion), read(current.deletion)]);
  const mine = [...after!.offsets].filter((p) => !before?.has(p));
  const both = mine.find((p) => theirs?.has(p));
  if (both !== undefined) {
    throw new StrataError(
      'CONFLICT',
      `the row at offset ${both} of fragment ${a.fragmentId} was deleted or updated on both ${sides}`,
      {
        uri: storage.uri,
        fragment: a.fragmentId,
        hint: 'reopen the dataset at its latest version and apply the change again',
      },
    );
  }
  const v = theirs ? theirs.union(mine) : after!;
  return { deletion: await writeDeletion(storage, v, signal), deleted: v.size };
}
