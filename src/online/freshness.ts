/**
 * Freshness of the online store per view: the event-time and write-time watermarks the store keeps
 * at write time (`OnlineStore.watermarks`, no scan), their age against now, and the view's declared
 * freshness SLO (`freshness: 15m` in the repo). `strata monitor`, `/metrics` and the viewer's
 * monitoring page read this.
 */
import { indexRepo } from './repo-index.js';
import type { OnlineStore } from './store.js';
import type { OnlineRepo, OnlineView } from './types.js';
import type { FreshnessStatus, ViewFreshness } from './freshness-types.js';

export { FRESHNESS_STATUSES, type FreshnessStatus, type ViewFreshness } from './freshness-types.js';

export interface FreshnessOptions {
  /** "Now", epoch ms. Default `Date.now()`. */
  readonly nowMs?: number;
  /** Only these views. Default: every online view of the repo. */
  readonly views?: readonly string[];
}

/** Freshness rows of the repo's online views, in name order. */
export async function viewFreshness(
  repo: Pick<OnlineRepo, 'views' | 'services'>,
  store: Pick<OnlineStore, 'watermarks'>,
  options: FreshnessOptions = {},
): Promise<ViewFreshness[]> {
  const now = options.nowMs ?? Date.now();
  const only = options.views ? new Set(options.views) : undefined;
  const views = [...indexRepo(repo as OnlineRepo).views.values()]
    .map((v) => v.view)
    .filter((v) => (v as OnlineView & { online?: boolean }).online !== false && (!only || only.has(v.name)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const marks = new Map((await store.watermarks(views.map((v) => v.name))).map((w) => [w.view, w]));
  return views.map((v) => freshnessOf(v, marks.get(v.name), now));
}

function freshnessOf(
  view: OnlineView,
  mark: { eventTimestampMs: number; writtenAtMs: number } | undefined,
  now: number,
): ViewFreshness {
  const event = mark && Number.isFinite(mark.eventTimestampMs) ? mark.eventTimestampMs : null;
  const write = mark && Number.isFinite(mark.writtenAtMs) && mark.writtenAtMs > 0 ? mark.writtenAtMs : null;
  const lagMs = event === null ? null : now - event;
  const sloMs = view.freshnessMs && view.freshnessMs > 0 ? view.freshnessMs : null;
  const status: FreshnessStatus = sloMs === null ? 'no_slo' : lagMs !== null && lagMs <= sloMs ? 'ok' : 'breached';
  return {
    view: view.name,
    eventWatermarkMs: event,
    writeWatermarkMs: write,
    lagMs,
    writeAgeMs: write === null ? null : now - write,
    sloMs,
    status,
  };
}
