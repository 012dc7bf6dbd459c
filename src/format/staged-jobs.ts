/**
 * Two-phase job commits (Lance's distributed write): each shard of a job writes its fragment files
 * and chunks, then records its actions in a small staged entry under `_jobs/<jobId>/` instead of
 * publishing a version; `commitStagedJob` publishes every shard's actions as one version through the
 * commutative commit path (commit.ts). Staged objects are referenced by no manifest, so readers never
 * see them; vacuum keeps them while the entry is younger than the retention window (see stagedLive).
 */
import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Action } from './actions.js';
import { catchUp, commitActions } from './commit.js';
import { encodeFragment, readFragment, withSegments, type Segment } from './fragment.js';
import { decodeCheckedJson, encodeCheckedJson } from './json-file.js';
import { readLatestAnyManifest, tryReadManifest } from './latest.js';
import { type AnyManifest, type ManifestV2, schemaOf } from './manifest-v2.js';
import { newFragmentKey } from './object-keys.js';
import { MAIN, type Ref } from './refs.js';

export const JOBS_PREFIX = '_jobs/';
const COMMITTED = '_committed.json';

/** What one shard of a job staged. */
export interface StagedShard {
  readonly format: 'strata-staged-shard';
  readonly jobId: string;
  readonly index: number;
  readonly count: number;
  /** The version the shard's changes were made on. */
  readonly baseVersion: number;
  /** The branch it commits on (null: main). */
  readonly branch: string | null;
  readonly message: string;
  readonly stagedAtMs: number;
  readonly actions: readonly Action[];
  /** Column ids the shard stored data under. */
  readonly columnsWithData: readonly string[];
}

/** The record of a committed job. */
export interface CommittedJob {
  readonly jobId: string;
  readonly version: number;
  readonly shards: number;
  readonly committedAtMs: number;
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** INVALID_ARGUMENT unless `jobId` is 1–128 letters, digits, `.`, `_` or `-` (it names a folder). */
export function checkJobId(jobId: string): string {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
    throw new StrataError('INVALID_ARGUMENT', `job id ${JSON.stringify(jobId)} is not valid`, {
      field: 'jobId',
      hint: 'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
    });
  }
  return jobId;
}

export function stagedKey(jobId: string, index: number, count: number): string {
  return `${JOBS_PREFIX}${checkJobId(jobId)}/${index}-of-${count}.json`;
}

function committedKey(jobId: string): string {
  return `${JOBS_PREFIX}${checkJobId(jobId)}/${COMMITTED}`;
}

/** A part of a shard's work staged before the shard finished (see putStagedShard `part`). */
export function stagedPartKey(jobId: string, index: number, count: number, part: number): string {
  return `${JOBS_PREFIX}${checkJobId(jobId)}/${index}-of-${count}.part-${part}.json`;
}

/** The parts the shard staged so far (a killed run's work), in order. */
export async function listStagedParts(
  storage: Storage,
  jobId: string,
  index: number,
  count: number,
  signal?: AbortSignal,
): Promise<StagedShard[]> {
  const prefix = `${JOBS_PREFIX}${checkJobId(jobId)}/${index}-of-${count}.part-`;
  const keys = (await storage.list(prefix, { signal })).filter((k) => /\.part-\d+\.json$/.test(k));
  const parts: { n: number; e: StagedShard }[] = [];
  for (const k of keys) {
    const e = await tryRead<StagedShard>(storage, k, 'staged part', signal);
    if (e) parts.push({ n: Number(/\.part-(\d+)\.json$/.exec(k)![1]), e });
  }
  return parts.sort((a, b) => a.n - b.n).map((p) => p.e);
}

/** Deletes the shard's parts (a re-run that cannot resume from them). */
export async function deleteStagedParts(
  storage: Storage,
  jobId: string,
  index: number,
  count: number,
  signal?: AbortSignal,
): Promise<void> {
  const prefix = `${JOBS_PREFIX}${checkJobId(jobId)}/${index}-of-${count}.part-`;
  for (const k of await storage.list(prefix, { signal })) await storage.delete(k, { signal });
}

/**
 * The shard's entry with the actions of its parts first: schema and metadata actions keep their
 * last value per column (and key), every data action (append, fill, delete) is kept.
 */
function withParts(entry: StagedShard, parts: readonly StagedShard[]): StagedShard {
  if (parts.length === 0) return entry;
  const all = [...parts.flatMap((p) => p.actions), ...entry.actions];
  const slot = (a: Action): string | undefined =>
    a.type === 'addColumn'
      ? `add ${a.column.id}`
      : a.type === 'setColumnMeta'
        ? `meta ${a.column} ${a.key}`
        : a.type === 'setMeta'
          ? `dataset ${a.key}`
          : undefined;
  const last = new Map<string, number>();
  all.forEach((a, i) => {
    const k = slot(a);
    if (k !== undefined) last.set(k, i);
  });
  const actions = all.filter((a, i) => {
    const k = slot(a);
    return k === undefined || last.get(k) === i;
  });
  return {
    ...entry,
    baseVersion: Math.min(entry.baseVersion, ...parts.map((p) => p.baseVersion)),
    actions,
    columnsWithData: [...new Set([...parts.flatMap((p) => p.columnsWithData), ...entry.columnsWithData])],
  };
}

/**
 * Records a shard's staged entry with put-if-absent: 'staged', or 'exists' when this shard of the
 * job was staged already (a re-run: the earlier entry stands, the caller's objects become garbage).
 * With `part` (0, 1, ...), records a part of the shard's work instead (the shard resumes from its
 * parts when re-run after a kill); the shard's entry then includes every part staged before it.
 */
export async function putStagedShard(
  storage: Storage,
  staged: StagedShard,
  signal?: AbortSignal,
  part?: number,
): Promise<'staged' | 'exists'> {
  const { jobId, index, count } = staged;
  const entry =
    part === undefined ? withParts(staged, await listStagedParts(storage, jobId, index, count, signal)) : staged;
  const key = part === undefined ? stagedKey(jobId, index, count) : stagedPartKey(jobId, index, count, part);
  try {
    await storage.putIfAbsent(key, encodeCheckedJson(entry), {
      signal,
      contentType: 'application/json',
    });
  } catch (err) {
    if (isStrataError(err, 'CONFLICT')) return 'exists';
    throw err;
  }
  // the entry holds the parts' actions now (left behind by a crash here, they are expired with the job)
  if (part === undefined && entry !== staged) await deleteStagedParts(storage, jobId, index, count, signal);
  return 'staged';
}

/** The staged entry of one shard, or undefined. */
export async function readStagedShard(
  storage: Storage,
  jobId: string,
  index: number,
  count: number,
  signal?: AbortSignal,
): Promise<StagedShard | undefined> {
  return tryRead<StagedShard>(storage, stagedKey(jobId, index, count), 'staged shard', signal);
}

/** The job's commit record, or undefined while it is not committed. */
export function readCommittedJob(
  storage: Storage,
  jobId: string,
  signal?: AbortSignal,
): Promise<CommittedJob | undefined> {
  return tryRead<CommittedJob>(storage, committedKey(jobId), 'job commit record', signal);
}

async function tryRead<T>(storage: Storage, key: string, what: string, signal?: AbortSignal): Promise<T | undefined> {
  try {
    return decodeCheckedJson<T>(await storage.get(key, { signal }), key, what);
  } catch (err) {
    if (isStrataError(err, 'NOT_FOUND')) return undefined;
    throw err;
  }
}

/** Every staged entry of the job, by shard index. */
export async function listStagedShards(storage: Storage, jobId: string, signal?: AbortSignal): Promise<StagedShard[]> {
  const prefix = `${JOBS_PREFIX}${checkJobId(jobId)}/`;
  const keys = (await storage.list(prefix, { signal })).filter((k) => /\/\d+-of-\d+\.json$/.test(k));
  const out: StagedShard[] = [];
  for (const k of keys) {
    const e = await tryRead<StagedShard>(storage, k, 'staged shard', signal);
    if (e) out.push(e);
  }
  return out.sort((a, b) => a.index - b.index);
}

export interface CommitJobOptions {
  readonly writer: string;
  readonly ref?: Ref;
  /** Commit the shards staged so far even when some are missing. Default false (NOT_FOUND). */
  readonly allowPartial?: boolean;
  readonly maxCommitAttempts?: number;
  readonly commitTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface CommitJobResult {
  readonly jobId: string;
  /** The version holding the job. */
  readonly version: number;
  /** Shard indexes committed. */
  readonly shards: readonly number[];
  /** Of how many. */
  readonly count: number;
  /** The job had been committed before: nothing was published now. */
  readonly alreadyCommitted: boolean;
  /** The manifest published (undefined when alreadyCommitted). */
  readonly manifest?: ManifestV2;
}

/**
 * Publishes every staged shard of `jobId` as one version: the shards' actions are checked against
 * each version published since the oldest shard's base (CONFLICT naming what collided) and applied
 * onto the latest. Idempotent: a committed job returns its version again. NOT_FOUND when no shard
 * is staged, or when some are missing (details.missing lists their indexes) unless `allowPartial`.
 */
export async function commitStagedJob(
  storage: Storage,
  jobId: string,
  options: CommitJobOptions,
): Promise<CommitJobResult> {
  const { signal } = options;
  const ref = options.ref ?? MAIN;
  const done = await readCommittedJob(storage, jobId, signal);
  if (done)
    return { jobId, version: done.version, shards: range(done.shards), count: done.shards, alreadyCommitted: true };
  const staged = await listStagedShards(storage, jobId, signal);
  if (staged.length === 0) {
    throw new StrataError('NOT_FOUND', `job ${jobId} has no staged shard in ${storage.uri}`, {
      uri: storage.uri,
      field: 'jobId',
      hint: 'run its shards with this jobId first (strata embed/ingest ... --shard i/n --job-id ID)',
    });
  }
  const count = staged[0].count;
  const mixed = staged.find((s) => s.count !== count);
  if (mixed) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `job ${jobId} has shards staged with different counts (${count} and ${mixed.count})`,
      { uri: storage.uri, field: 'shard', hint: 'run every shard of a job with the same count, or use a new job id' },
    );
  }
  const have = new Set(staged.map((s) => s.index));
  const missing = range(count).filter((i) => !have.has(i));
  if (missing.length > 0 && !options.allowPartial) {
    throw new StrataError(
      'NOT_FOUND',
      `job ${jobId}: ${missing.length} of ${count} shards are not staged (${missing.map((i) => `${i}/${count}`).join(', ')})`,
      {
        uri: storage.uri,
        missing,
        hint: 'run the missing shards with the same --job-id, or commit what is staged with --allow-partial',
      },
    );
  }
  const actions = staged.flatMap((s) => s.actions);
  const withData = new Set(staged.flatMap((s) => s.columnsWithData));
  const fills = new Map<number, Extract<Action, { type: 'fill' }>>();
  for (const a of actions) if (a.type === 'fill') fills.set(a.fragmentId, a);
  // check what was published since the oldest shard's base, then apply onto the newest version
  const oldest = Math.min(...staged.map((s) => s.baseVersion));
  const from = await tryReadManifest(storage, oldest, signal, ref);
  const current: AnyManifest = from
    ? await catchUp(storage, from, actions, signal, ref)
    : await readLatestAnyManifest(storage, signal, ref);
  const message = `job ${jobId}: ${staged.length} of ${count} shards (${staged[0].message}${staged.length > 1 ? ', …' : ''})`;
  let manifest: ManifestV2;
  try {
    manifest = await commitActions(storage, current, actions, {
      writer: options.writer,
      message,
      columnsWithData: withData,
      refill: (a, key) => refill(storage, a, key, current, signal),
      maxCommitAttempts: options.maxCommitAttempts,
      commitTimeoutMs: options.commitTimeoutMs,
      signal,
      ref,
    });
  } catch (err) {
    // a concurrent `job commit` of the same job published first
    const again = isStrataError(err, 'CONFLICT') ? await readCommittedJob(storage, jobId, signal) : undefined;
    if (again)
      return {
        jobId,
        version: again.version,
        shards: range(again.shards),
        count: again.shards,
        alreadyCommitted: true,
      };
    throw err;
  }
  const record: CommittedJob = { jobId, version: manifest.version, shards: count, committedAtMs: Date.now() };
  try {
    await storage.putIfAbsent(committedKey(jobId), encodeCheckedJson(record), {
      signal,
      contentType: 'application/json',
    });
  } catch (err) {
    if (!isStrataError(err, 'CONFLICT')) throw err;
  }
  return {
    jobId,
    version: manifest.version,
    shards: [...have].sort((a, b) => a - b),
    count,
    alreadyCommitted: false,
    manifest,
  };
}

/**
 * A staged fill whose fragment changed since the shard read it (another column was filled): the
 * current file plus the segments the shard added (those of its new file not in its base file).
 */
async function refill(
  storage: Storage,
  a: Extract<Action, { type: 'fill' }>,
  currentKey: string,
  m: AnyManifest,
  signal?: AbortSignal,
): Promise<string> {
  const [base, mine] = await Promise.all([
    readFragment(storage, a.baseKey, signal),
    readFragment(storage, a.newKey, signal),
  ]);
  let out = await readFragment(storage, currentKey, signal);
  const names = new Map(schemaOf(m).map((c) => [c.id, c.name]));
  for (const id of a.columns) {
    const had = new Set((base.columns[id] ?? []).map(segmentKey));
    const added: Segment[] = (mine.columns[id] ?? []).filter((s) => !had.has(segmentKey(s)));
    out = withSegments(out, id, added, names.get(id) ?? id);
  }
  const key = newFragmentKey();
  await storage.put(key, encodeFragment(out), { signal, contentType: 'application/json' });
  return key;
}

function segmentKey(s: Segment): string {
  return `${s.offset}:${s.rows}:${s.chunks[0]?.key ?? ''}`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * For vacuum: the fragment files (and their chunks) of staged entries younger than `cutoffMs` that
 * are not committed (kept: their job may still be committed), and the keys of expired entries
 * (older than the cutoff, or of a job committed before it) that vacuum deletes.
 */
export async function stagedLive(
  storage: Storage,
  cutoffMs: number,
  signal?: AbortSignal,
): Promise<{ live: Set<string>; expired: string[] }> {
  const live = new Set<string>();
  const expired: string[] = [];
  const keys = await storage.list(JOBS_PREFIX, { signal });
  const jobs = new Map<string, string[]>();
  for (const k of keys) {
    const job = k.slice(JOBS_PREFIX.length).split('/')[0];
    jobs.set(job, [...(jobs.get(job) ?? []), k]);
  }
  for (const [jobId, files] of jobs) {
    const committed = files.some((k) => k.endsWith(`/${COMMITTED}`))
      ? await readCommittedJob(storage, jobId, signal)
      : undefined;
    const entries: { key: string; entry: StagedShard }[] = [];
    for (const k of files) {
      if (k.endsWith(`/${COMMITTED}`)) continue;
      const entry = await tryRead<StagedShard>(storage, k, 'staged shard', signal);
      if (entry) entries.push({ key: k, entry });
    }
    const newest = Math.max(committed?.committedAtMs ?? 0, ...entries.map((e) => e.entry.stagedAtMs));
    if (newest < cutoffMs) {
      expired.push(...files);
      continue;
    }
    if (committed) continue; // its objects are referenced by the version it published
    for (const { entry } of entries) {
      for (const a of entry.actions) {
        const fragmentKeys = a.type === 'fill' ? [a.newKey] : a.type === 'append' ? a.fragments.map((f) => f.key) : [];
        for (const fk of fragmentKeys) {
          live.add(fk);
          const f = await readFragment(storage, fk, signal);
          for (const segs of Object.values(f.columns))
            for (const s of segs) for (const ch of s.chunks) live.add(ch.key);
        }
        if (a.type === 'delete') live.add(a.deletion);
      }
    }
  }
  return { live, expired };
}
