/**
 * Materialization: move the latest values (and current window aggregates) the engine computes into
 * an online store, batch by batch. Safe to kill and re-run: writes are idempotent and ordered by event
 * time, and a view's watermark (`view:<name>:materialized_end_ms` in the store's state) only advances
 * after the whole view is written, so a re-run converges to the state an uninterrupted run leaves.
 *
 * Sharded (`shard: { index, count }`): each shard writes only its entities' rows (split by a stable
 * hash of the entity key, shardOfEntity), so shards never write the same row. Watermarks merge: a
 * shard advances its own `view:<name>:materialized_end_ms:shard:<i>/<n>`, and the view's watermark
 * advances to the minimum of the `count` shard watermarks once every shard has one — it never passes
 * the end of a shard that has not finished. (Two shards finishing at once may leave it one run
 * behind; an incremental run then re-writes the same rows, which the event-time rule makes harmless.)
 */
import { StrataError, throwIfAborted } from '../errors.js';
import { checkShard, entityFilter, shardLabel, type Shard } from '../shard.js';
import { coerceForDtype } from './dtypes.js';
import { indexRepo, viewOf } from './repo-index.js';
import type { OnlineStore, OnlineWriteRow } from './store.js';
import { FeatureStatsRecorder, checkRunId, newRunId, type Progress } from '../features/index.js';
import type { LatestValuesBatch, OnlineRepo, OnlineView } from './types.js';

export interface MaterializeOptions {
  readonly start: Date;
  readonly end: Date;
  /** Views to materialize. Default: all views not flagged `online: false`. */
  readonly views?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Rows per store write. Default 1000. */
  readonly batchRows?: number;
  /** Only this shard's entities (by a stable hash of the entity key); see the module comment for watermarks. */
  readonly shard?: Shard;
  /** Record per-feature statistics of the written values as a run (see StatisticsOptions). Default true. */
  readonly statistics?: boolean;
  /** Id of the statistics run; the shards of one run pass the same id. Default: a new time-based id. */
  readonly runId?: string;
}

export interface MaterializeIncrementalOptions {
  readonly end: Date;
  readonly views?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  readonly batchRows?: number;
  /** Only this shard's entities; it starts where this shard (else the whole view) last ended. */
  readonly shard?: Shard;
  /** As in MaterializeOptions. Default true. */
  readonly statistics?: boolean;
  readonly runId?: string;
}

export interface ViewMaterialization {
  readonly view: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Rows the engine produced. */
  readonly rows: number;
  readonly written: number;
  /** Rows the store already held newer values for. */
  readonly skipped: number;
  /** Id of the statistics run recorded for the view (absent when none was recorded). */
  readonly statisticsRun?: string;
}

export interface MaterializeResult {
  readonly views: readonly ViewMaterialization[];
}

/** State key of a view's materialization watermark (epoch ms, as text). */
export function watermarkKey(view: string): string {
  return `view:${view}:materialized_end_ms`;
}

/** State key of one shard's materialization watermark of a view. */
export function shardWatermarkKey(view: string, shard: Shard): string {
  return `${watermarkKey(view)}:shard:${shardLabel(shard)}`;
}

/** Last materialized end of a view, or undefined when never materialized. */
export async function materializedEnd(store: OnlineStore, view: string): Promise<Date | undefined> {
  const s = await store.getState(watermarkKey(view));
  return s === undefined ? undefined : new Date(Number(s));
}

export async function materialize(
  repo: OnlineRepo,
  store: OnlineStore,
  options: MaterializeOptions,
): Promise<MaterializeResult> {
  const startMs = checkDate(options.start, 'start');
  const endMs = checkDate(options.end, 'end');
  if (startMs > endMs) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `materialize start ${options.start.toISOString()} is after end ${options.end.toISOString()}`,
      {
        field: 'start',
      },
    );
  }
  wholeOrShard(options.shard); // INVALID_ARGUMENT before anything is written
  const runId = options.runId !== undefined ? checkRunId(options.runId) : newRunId();
  const views = pickViews(repo, options.views);
  const out: ViewMaterialization[] = [];
  for (const view of views) out.push(await materializeView(repo, store, view, startMs, endMs, { ...options, runId }));
  return { views: out };
}

export async function materializeIncremental(
  repo: OnlineRepo,
  store: OnlineStore,
  options: MaterializeIncrementalOptions,
): Promise<MaterializeResult> {
  const endMs = checkDate(options.end, 'end');
  const shard = wholeOrShard(options.shard);
  const runId = options.runId !== undefined ? checkRunId(options.runId) : newRunId();
  const out: ViewMaterialization[] = [];
  for (const view of pickViews(repo, options.views)) {
    const prev =
      (shard ? await store.getState(shardWatermarkKey(view.name, shard)) : undefined) ??
      (await store.getState(watermarkKey(view.name)));
    const startMs = prev !== undefined ? Number(prev) : view.ttlMs && view.ttlMs > 0 ? endMs - view.ttlMs : 0;
    if (startMs >= endMs) {
      out.push({ view: view.name, startMs, endMs, rows: 0, written: 0, skipped: 0 });
      continue;
    }
    out.push(await materializeView(repo, store, view, startMs, endMs, { ...options, runId }));
  }
  return { views: out };
}

async function materializeView(
  repo: OnlineRepo,
  store: OnlineStore,
  view: OnlineView,
  startMs: number,
  endMs: number,
  options: {
    signal?: AbortSignal;
    onProgress?: (p: Progress) => void;
    batchRows?: number;
    shard?: Shard;
    statistics?: boolean;
    runId: string;
  },
): Promise<ViewMaterialization> {
  const batchRows = options.batchRows ?? 1000;
  const shard = wholeOrShard(options.shard);
  // the repo may ignore `shard` (an OnlineRepo need not support it): rows are filtered here too
  const inShard = entityFilter(shard, view.entities);
  let rows = 0;
  let written = 0;
  let skipped = 0;
  const phase = `materialize ${view.name}`;
  options.onProgress?.({ phase, done: 0, unit: 'rows' });
  const source = repo.latestValues(view.name, {
    start: new Date(startMs),
    end: new Date(endMs),
    signal: options.signal,
    // the engine's own progress, e.g. events dropped for a null key or time ('dropped <view>')
    onProgress: options.onProgress,
    ...(shard ? { shard } : {}),
  });
  const record =
    options.statistics !== false && repo.recordsStatistics !== false ? repo.recordStatistics?.bind(repo) : undefined;
  const stats = record ? new FeatureStatsRecorder(view.features) : undefined;
  let pending: OnlineWriteRow[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const r = await store.write(pending, { signal: options.signal });
    written += r.written;
    skipped += r.skipped;
    rows += pending.length;
    pending = [];
    options.onProgress?.({ phase, done: rows, unit: 'rows' });
  };
  for await (const batch of source) {
    throwIfAborted(options.signal, phase);
    for (const row of toWriteRows(view, batch)) {
      if (inShard && !inShard(row.entityKey)) continue;
      stats?.addRow(row.values);
      pending.push(row);
      if (pending.length >= batchRows) await flush();
    }
    await flush();
  }
  await flush();
  if (shard) {
    await advanceState(store, shardWatermarkKey(view.name, shard), endMs);
    const ends: number[] = [];
    for (let i = 0; i < shard.count; i++) {
      const s = await store.getState(shardWatermarkKey(view.name, { index: i, count: shard.count }));
      if (s === undefined) break;
      ends.push(Number(s));
    }
    if (ends.length === shard.count) await advanceState(store, watermarkKey(view.name), Math.min(...ends));
  } else await advanceState(store, watermarkKey(view.name), endMs);
  const file =
    record && stats
      ? await record({
          view: view.name,
          runId: options.runId,
          kind: 'materialize',
          rows: stats.rows,
          ...(shard ? { shard } : {}),
          startMs,
          endMs,
          features: stats.features(),
        })
      : undefined;
  return {
    view: view.name,
    startMs,
    endMs,
    rows,
    written,
    skipped,
    ...(file !== undefined ? { statisticsRun: options.runId } : {}),
  };
}

/** Sets a watermark to `endMs` unless it already is at or past it. */
async function advanceState(store: OnlineStore, key: string, endMs: number): Promise<void> {
  const prev = await store.getState(key);
  if (prev === undefined || Number(prev) < endMs) await store.setState(key, String(endMs));
}

/** A checked shard, or undefined for the whole job (no shard, or 1 shard). */
function wholeOrShard(shard: Shard | undefined): Shard | undefined {
  if (!shard) return undefined;
  const s = checkShard(shard);
  return s.count === 1 ? undefined : s;
}

/** Turns an engine batch into store rows: the view's join keys and features only, values coerced to their dtype. */
export function toWriteRows(view: OnlineView, batch: LatestValuesBatch): OnlineWriteRow[] {
  const n = batch.entityKeys.length;
  if (batch.values.length !== n || batch.eventTimestampsMs.length !== n) {
    throw new StrataError(
      'CORRUPT',
      `engine batch for ${view.name} has ${n} keys, ${batch.values.length} values, ${batch.eventTimestampsMs.length} timestamps`,
      {
        key: view.name,
        hint: 'this is a bug in the feature engine; report it',
      },
    );
  }
  const out = new Array<OnlineWriteRow>(n);
  for (let i = 0; i < n; i++) {
    const src = batch.entityKeys[i];
    const entityKey: Record<string, unknown> = {};
    for (const k of view.entities) entityKey[k] = src[k];
    const vals = batch.values[i];
    const values: Record<string, unknown> = {};
    for (const f of view.features) values[f.name] = coerceForDtype(vals[f.name], f.dtype);
    out[i] = { view: view.name, entityKey, values, eventTimestampMs: Number(batch.eventTimestampsMs[i]) };
  }
  return out;
}

function pickViews(repo: OnlineRepo, names: readonly string[] | undefined): OnlineView[] {
  const index = indexRepo(repo);
  // Views flagged `online: false` in the repo are left out unless asked for by name.
  if (!names)
    return [...index.views.values()].map((v) => v.view).filter((v) => (v as { online?: boolean }).online !== false);
  return names.map((n) => viewOf(index, n));
}

function checkDate(d: Date, field: string): number {
  const t = d instanceof Date ? d.getTime() : Number.NaN;
  if (!Number.isFinite(t))
    throw new StrataError('INVALID_ARGUMENT', `materialize ${field} must be a valid Date`, { field });
  return t;
}
