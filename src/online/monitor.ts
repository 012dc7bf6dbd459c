/**
 * What monitoring reads (`strata monitor`, `/metrics`, the viewer's monitoring page): per-view
 * freshness from the online store and, when something records them, per-feature statistics with a
 * reference to compare against. Statistics come in through `features`, so any recorder (per-run
 * statistics of materialization or backfill, a training set's statistics) plugs in without this
 * layer knowing where they are stored.
 */
import { DRIFT_METRICS, scoreOf, type DriftThresholds } from '../features/index.js';
import type { ColumnStatistics, DriftScores } from '../stats/index.js';
import { type FreshnessOptions, type ViewFreshness, viewFreshness } from './freshness.js';
import type { OnlineStore } from './store.js';
import type { OnlineRepo } from './types.js';

/** Statistics of one feature: the latest, and optionally a reference to compare with. */
export interface FeatureMonitor {
  readonly view: string;
  readonly feature: string;
  readonly current: ColumnStatistics;
  readonly reference?: ColumnStatistics;
  /** What the reference is (a run id, a tag), for display. */
  readonly referenceName?: string;
  /** Drift scores when already computed; default `current.driftFrom(reference)`. */
  readonly drift?: DriftScores;
  /** Scores above which the feature counts as drifted (any one); merged over DEFAULT_DRIFT_THRESHOLDS. */
  readonly thresholds?: DriftThresholds;
}

export interface MonitorSource {
  /** Freshness per online view. */
  freshness(options?: FreshnessOptions): Promise<readonly ViewFreshness[]>;
  /** Per-feature statistics; absent when nothing records them. */
  features?(options?: { readonly signal?: AbortSignal }): Promise<readonly FeatureMonitor[]>;
}

export interface StoreMonitorSourceOptions {
  /** Per-feature statistics (e.g. from `repo.statistics()`); default none. */
  readonly features?: (options?: { readonly signal?: AbortSignal }) => Promise<readonly FeatureMonitor[]>;
}

/** A MonitorSource over a repo's views and its online store's watermarks. */
export function storeMonitorSource(
  repo: Pick<OnlineRepo, 'views' | 'services'>,
  store: Pick<OnlineStore, 'watermarks'>,
  options: StoreMonitorSourceOptions = {},
): MonitorSource {
  return {
    freshness: (o) => viewFreshness(repo, store, o),
    ...(options.features ? { features: options.features } : {}),
  };
}

/**
 * Limits where a view declares none: PSI 0.25 is the usual "shifted" rule of thumb; the embedding
 * limits (1 − cosine of the mean vectors, squared MMD) are this project's defaults.
 */
export const DEFAULT_DRIFT_THRESHOLDS: Required<DriftThresholds> = { psi: 0.25, js: 0.1, meanShift: 0.1, mmd2: 0.1 };

/** Whether any score is above its limit. */
export function isDrifted(drift: DriftScores | undefined, thresholds: DriftThresholds): boolean {
  if (!drift) return false;
  return DRIFT_METRICS.some((m) => {
    const v = scoreOf(drift, m);
    const limit = thresholds[m];
    return typeof v === 'number' && limit !== undefined && v > limit;
  });
}
