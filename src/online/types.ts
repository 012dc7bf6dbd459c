/**
 * The slice of the feature repository (src/features) that the online layer uses.
 * Structural on purpose: `FeatureRepo` satisfies it, and so does any small data source
 * with the same members (tests use one).
 */
import type {
  LatestValuesOptions,
  StatisticsQueryOptions,
  StatisticsRun,
  StatisticsRunRecord,
  ViewMonitoring,
} from '../features/index.js';
import type { FeatureLoggingOptions } from './feature-log.js';
import type { OnDemandView } from '../features/definitions/on-demand.js';

/** One feature of a view: its name and dtype as declared in the repo (e.g. `float64`, `float32[512]`). */
export interface OnlineFeatureDef {
  readonly name: string;
  readonly dtype: string;
}

/** A feature view as the online layer sees it. */
export interface OnlineView {
  readonly name: string;
  /** Join key names of the view's entities, e.g. `['user_id']`. */
  readonly entities: readonly string[];
  /**
   * Join key → dtype where known (e.g. `{ user_id: 'int64' }`). Integer keys are then also found by
   * their decimal text (`"1152921504606846977"`), exact beyond 2^53.
   */
  readonly keyDtypes?: Readonly<Record<string, string>>;
  readonly features: readonly OnlineFeatureDef[];
  /** Values older than this are served with status `OUTSIDE_MAX_AGE`. Unset or 0: no limit. */
  readonly ttlMs?: number;
  /** Freshness SLO: the newest online event may be at most this old (`strata monitor`, `/metrics`). */
  readonly freshnessMs?: number;
  /** Drift thresholds and the reference run (`monitoring:` in the repo). */
  readonly monitoring?: ViewMonitoring;
}

/** One batch of latest values (or current window aggregates) per entity, as produced by the engine. */
export interface LatestValuesBatch {
  readonly entityKeys: readonly Record<string, unknown>[];
  readonly values: readonly Record<string, unknown>[];
  readonly eventTimestampsMs: Float64Array | readonly number[];
}

/** What `repo.push()` returns per touched view: the view's current values for the pushed entities. */
export interface PushedBatch extends LatestValuesBatch {
  readonly view: string;
}

/** A feature service: its refs directly, or an object with `name` and `features`. */
export type ServiceRefs = readonly string[] | { readonly name?: string; readonly features: readonly string[] };

/** Collection forms accepted for `repo.views` / `repo.services`. */
export type NamedCollection<T> = readonly T[] | ReadonlyMap<string, T> | Readonly<Record<string, T>>;

/** The feature repository contract the online layer codes against (see issue 6). */
export interface OnlineRepo {
  readonly views: NamedCollection<OnlineView>;
  /** Feature service name → feature refs (`view:feature`), or service objects carrying `features`. */
  readonly services: NamedCollection<ServiceRefs>;
  latestValues(viewName: string, options: LatestValuesOptions): AsyncIterable<LatestValuesBatch>;
  push(sourceName: string, events: readonly Record<string, unknown>[]): Promise<readonly PushedBatch[]>;
  /** Served-feature logging the repo asks for (`logging:` in strata.yaml); the server applies it. */
  readonly logging?: FeatureLoggingOptions;
  /** On-demand views, computed per request from request data and the other views' features. */
  readonly onDemandViews?: NamedCollection<OnDemandView>;
  /**
   * Optional: stores a run's per-feature statistics (FeatureRepo keeps them in its directory).
   * Returns where it stored them, or undefined when it did not. Materialization skips statistics
   * for a repo without it.
   */
  recordStatistics?(run: StatisticsRunRecord): Promise<string | undefined>;
  /** False when `recordStatistics` would store nothing (materialization then computes none). */
  readonly recordsStatistics?: boolean;
  /** Optional: recorded statistics runs of a view, latest first (drift in `strata monitor`, `/metrics`). */
  statistics?(viewName?: string, options?: StatisticsQueryOptions): Promise<readonly StatisticsRun[]>;
}
