/**
 * Online/offline consistency (Chronon's consistency job): the values a served-feature log recorded
 * (feature-log.ts) against the point-in-time values `getHistoricalFeatures` computes for the same
 * entities at the logged request times. A mismatch is a logged cell whose served value (null unless
 * PRESENT) differs from the offline one; numbers within a relative tolerance are equal. The log is
 * read in batches (`batchRows`), so memory does not grow with it.
 */
import { Dataset } from '../dataset/dataset.js';
import type { OpenOptions } from '../dataset/dataset.js';
import { StrataError, throwIfAborted } from '../errors.js';
import { FEATURE_LOG_SCHEMA } from './feature-log.js';

/** The part of `FeatureRepo` consistency uses (structural, so this layer imports no repo class). */
export interface HistoricalFeatureSource {
  getHistoricalFeatures(
    entityRows: readonly Record<string, unknown>[],
    options: {
      readonly features: readonly string[];
      readonly fullFeatureNames: boolean;
      readonly signal?: AbortSignal;
    },
  ): { toArray(): Promise<Record<string, unknown>[]> };
}

export interface ConsistencyOptions {
  /** Numbers a, b are equal when |a − b| ≤ tolerance · max(1, |a|, |b|). Default 1e-6. */
  readonly tolerance?: number;
  /** Only requests logged at or after this time (epoch ms). Default: all. */
  readonly sinceMs?: number;
  /** Mismatching cells kept per feature as examples. Default 5. */
  readonly examplesPerFeature?: number;
  /**
   * Log rows read and compared at a time (one `getHistoricalFeatures` call per view per batch):
   * memory is bounded by the batch, not the log. Default 50000.
   */
  readonly batchRows?: number;
  /** Storage options when `log` is a URI. */
  readonly storage?: OpenOptions;
  readonly signal?: AbortSignal;
}

export interface ConsistencyExample {
  readonly requestId: string;
  readonly requestTimeMs: number;
  readonly entity: Readonly<Record<string, unknown>>;
  readonly online: unknown;
  readonly offline: unknown;
}

export interface FeatureConsistency {
  /** `view:feature`. */
  readonly feature: string;
  /** Logged cells compared. */
  readonly compared: number;
  readonly mismatches: number;
  /** mismatches / compared (0 when nothing was compared). */
  readonly mismatchRate: number;
  /** Mismatches where the online side had a value and the offline side none. */
  readonly onlineOnly: number;
  /** Mismatches where the offline side had a value and the online side none (not found, null, expired). */
  readonly offlineOnly: number;
  readonly examples: readonly ConsistencyExample[];
}

export interface ConsistencyReport {
  /** Requests in the log that were compared. */
  readonly requests: number;
  /** Logged cells compared (requests × entity rows × features). */
  readonly cells: number;
  readonly mismatches: number;
  readonly tolerance: number;
  readonly features: readonly FeatureConsistency[];
}

interface LogRow {
  request_id: string;
  request_time_ms: bigint | number;
  row: number;
  entity: Record<string, unknown>;
  feature: string;
  value: unknown;
}

/** Compares a served-feature log (a URI or an open dataset) with the repo's point-in-time values. */
export async function checkConsistency(
  repo: HistoricalFeatureSource,
  log: string | Dataset,
  options: ConsistencyOptions = {},
): Promise<ConsistencyReport> {
  const tolerance = options.tolerance ?? 1e-6;
  if (!(tolerance >= 0)) {
    throw new StrataError('INVALID_ARGUMENT', `tolerance ${tolerance} is not a number ≥ 0`, {
      field: 'tolerance',
      hint: 'e.g. 1e-6',
    });
  }
  const ds = typeof log === 'string' ? await Dataset.open(log, options.storage ?? {}) : log;
  try {
    for (const c of Object.keys(FEATURE_LOG_SCHEMA)) {
      if (!ds.hasColumn(c)) {
        throw new StrataError('INVALID_ARGUMENT', `dataset ${ds.uri} is not a served-feature log`, {
          uri: ds.uri,
          column: c,
          hint: 'pass the dataset named by logging.dataset in strata.yaml (or the server option)',
        });
      }
    }
    const since = options.sinceMs;
    const keep = options.examplesPerFeature ?? 5;
    const batchRows = options.batchRows ?? 50_000;
    if (!(Number.isInteger(batchRows) && batchRows > 0)) {
      throw new StrataError('INVALID_ARGUMENT', `batchRows ${batchRows} is not a positive integer`, {
        field: 'batchRows',
        hint: 'e.g. 50000',
      });
    }
    const perFeature = new Map<string, FeatureTally>();
    // a request's rows are appended together (one logger flush), so requests = changes of request_id
    let requests = 0;
    let cells = 0;
    let lastRequest: string | undefined;
    const view = ds.select(['request_id', 'request_time_ms', 'row', 'entity', 'feature', 'value']);
    for await (const batch of view.iterRows({ batchSize: batchRows, signal: options.signal })) {
      const rows = (since === undefined
        ? batch
        : batch.filter((r) => Number(r.request_time_ms) >= since)) as unknown as LogRow[];
      for (const r of rows) {
        if (r.request_id !== lastRequest) requests++;
        lastRequest = r.request_id;
      }
      cells += rows.length;
      await compareBatch(repo, rows, perFeature, { tolerance, keep, signal: options.signal });
    }
    const features = [...perFeature]
      .map(([feature, f]) => ({
        feature,
        compared: f.compared,
        mismatches: f.mismatches,
        mismatchRate: f.compared ? f.mismatches / f.compared : 0,
        onlineOnly: f.on,
        offlineOnly: f.off,
        examples: f.ex,
      }))
      .sort((a, b) => (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0));
    return {
      requests,
      cells,
      mismatches: features.reduce((a, f) => a + f.mismatches, 0),
      tolerance,
      features,
    };
  } finally {
    if (typeof log === 'string') await ds.close();
  }
}

interface FeatureTally {
  compared: number;
  mismatches: number;
  on: number;
  off: number;
  ex: ConsistencyExample[];
}

/** Compares one batch of log rows with their point-in-time offline values, adding to `perFeature`. */
async function compareBatch(
  repo: HistoricalFeatureSource,
  rows: readonly LogRow[],
  perFeature: Map<string, FeatureTally>,
  o: { readonly tolerance: number; readonly keep: number; readonly signal?: AbortSignal },
): Promise<void> {
  // view → its logged cells, and its entity rows (one per request row) in first-seen order
  const byView = new Map<string, { cells: LogRow[]; slots: Map<string, number>; refs: Set<string> }>();
  for (const r of rows) {
    const view = r.feature.slice(0, r.feature.lastIndexOf(':'));
    let g = byView.get(view);
    if (!g) byView.set(view, (g = { cells: [], slots: new Map(), refs: new Set() }));
    g.cells.push(r);
    g.refs.add(r.feature);
    const slot = `${r.request_id}\u0000${r.row}`;
    if (!g.slots.has(slot)) g.slots.set(slot, g.slots.size);
  }
  for (const [view, g] of byView) {
    throwIfAborted(o.signal);
    const entityRows = new Array<Record<string, unknown>>(g.slots.size);
    for (const r of g.cells) {
      const i = g.slots.get(`${r.request_id}\u0000${r.row}`)!;
      entityRows[i] ??= { ...r.entity, event_timestamp: new Date(Number(r.request_time_ms)) };
    }
    const offline = await repo
      .getHistoricalFeatures(entityRows, { features: [...g.refs], fullFeatureNames: true, signal: o.signal })
      .toArray();
    for (const r of g.cells) {
      const i = g.slots.get(`${r.request_id}\u0000${r.row}`)!;
      const column = `${view}__${r.feature.slice(view.length + 1)}`;
      const off = offline[i]?.[column] ?? null;
      const on = r.value ?? null;
      let f = perFeature.get(r.feature);
      if (!f) perFeature.set(r.feature, (f = { compared: 0, mismatches: 0, on: 0, off: 0, ex: [] }));
      f.compared++;
      if (same(on, off, o.tolerance)) continue;
      f.mismatches++;
      if (off === null) f.on++;
      else if (on === null) f.off++;
      if (f.ex.length < o.keep) {
        f.ex.push({
          requestId: r.request_id,
          requestTimeMs: Number(r.request_time_ms),
          entity: r.entity,
          online: on,
          offline: off,
        });
      }
    }
  }
}

function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  return undefined;
}

function asText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'bigint' || typeof v === 'number' ? v.toString() : undefined;
}

function isList(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/** Equal served and offline values: numbers within the tolerance, lists element-wise, else by JSON text. */
export function sameFeatureValue(a: unknown, b: unknown, tolerance: number): boolean {
  return same(a ?? null, b ?? null, tolerance);
}

function same(a: unknown, b: unknown, tol: number): boolean {
  if (a === null || b === null) return a === b;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) {
    if (Number.isNaN(na) || Number.isNaN(nb)) return Number.isNaN(na) && Number.isNaN(nb);
    return Math.abs(na - nb) <= tol * Math.max(1, Math.abs(na), Math.abs(nb));
  }
  if (isList(a) && isList(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i] ?? null, b[i] ?? null, tol)) return false;
    return true;
  }
  // int64 beyond 2^53 is logged as text
  if (typeof a === 'string' || typeof b === 'string') {
    const ta = asText(a);
    return ta !== undefined && ta === asText(b);
  }
  if (typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}
