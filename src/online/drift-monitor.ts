/**
 * Drift of each view's latest statistics run against a reference run, for `strata monitor`,
 * `/metrics` and the monitoring page. The reference is, in order: the caller's (`--reference`), the
 * view's declared `monitoring.reference`, the view's latest `training` run; with none, the view is
 * not checked. The current run is the latest materialize or backfill run other than the reference.
 * A feature is drifted when a score is above its limit: the view's declared thresholds merged over
 * DEFAULT_DRIFT_THRESHOLDS (the same limits the monitoring page draws).
 */
import { StrataError } from '../errors.js';
import { DRIFT_METRICS, scoreOf, thresholdsOf, type DriftMetric, type DriftThresholds } from '../features/index.js';
import type { StatisticsRun } from '../features/index.js';
import type { ColumnStatsKind, DriftScores } from '../stats/index.js';
import { DEFAULT_DRIFT_THRESHOLDS, type FeatureMonitor } from './monitor.js';
import { indexRepo } from './repo-index.js';
import type { OnlineRepo, OnlineView } from './types.js';

/**
 * `ok`: no feature above a limit; `drifted`: at least one; `no_reference`: no reference run (none
 * declared, no training run, or the named run is not among the view's runs); `no_runs`: no run to
 * compare (nothing recorded, or only the reference); `unreadable`: a run file could not be read
 * (`note` says which).
 */
export type DriftStatus = 'ok' | 'drifted' | 'no_reference' | 'no_runs' | 'unreadable';

/** Where the reference came from. */
export type ReferenceSource = 'option' | 'declared' | 'training';

export interface FeatureDriftStatus {
  readonly feature: string;
  readonly kind: ColumnStatsKind;
  readonly scores: DriftScores;
  /** The limits applied: the view's declared ones over DEFAULT_DRIFT_THRESHOLDS. */
  readonly thresholds: Required<DriftThresholds>;
  /** Metrics scoring above their limit. */
  readonly breaches: readonly DriftMetric[];
  readonly breached: boolean;
}

export interface ViewDriftStatus {
  readonly view: string;
  readonly status: DriftStatus;
  /** Run id of the current statistics; null when there is none. */
  readonly run: string | null;
  /** Run id of the reference; null when there is none. */
  readonly reference: string | null;
  readonly referenceSource: ReferenceSource | null;
  readonly features: readonly FeatureDriftStatus[];
  /** Why the view is not checked (`no_reference`, `no_runs`). */
  readonly note?: string;
}

export interface DriftMonitorOptions {
  /** Reference run id for every view (overrides the declared one). */
  readonly reference?: string;
  /** Only these views. Default: every view. */
  readonly views?: readonly string[];
}

/** The slice of a repo drift monitoring reads. */
export type DriftRepo = Pick<OnlineRepo, 'views' | 'services' | 'statistics'>;

interface Evaluated {
  readonly status: ViewDriftStatus;
  readonly current?: StatisticsRun;
  readonly reference?: StatisticsRun;
}

/** The limits that apply to a feature of a view. */
export function effectiveThresholds(view: OnlineView, feature: string): Required<DriftThresholds> {
  return { ...DEFAULT_DRIFT_THRESHOLDS, ...(thresholdsOf(view.monitoring, feature) ?? {}) };
}

/** The latest materialize or backfill run, as `current` (histograms without a reference). */
function latest(runs: readonly StatisticsRun[]): { current?: StatisticsRun } {
  const current = runs.find((r) => r.kind !== 'training');
  return current ? { current } : {};
}

function evaluate(view: OnlineView, runs: readonly StatisticsRun[], referenceOption?: string): Evaluated {
  const base = { view: view.name, run: null, reference: null, referenceSource: null, features: [] };
  const declared = view.monitoring?.reference;
  let reference: StatisticsRun | undefined;
  let source: ReferenceSource;
  const wanted = referenceOption ?? declared;
  if (wanted !== undefined) {
    reference = runs.find((r) => r.runId === wanted);
    source = referenceOption !== undefined ? 'option' : 'declared';
    if (!reference)
      return { status: { ...base, status: 'no_reference', note: `no statistics run ${wanted}` }, ...latest(runs) };
  } else {
    reference = runs.find((r) => r.kind === 'training');
    source = 'training';
    if (!reference)
      return {
        status: {
          ...base,
          status: 'no_reference',
          note: 'no reference: pass --reference, declare monitoring.reference or record a training run',
        },
        ...latest(runs),
      };
  }
  const current = runs.find((r) => r.runId !== reference.runId && r.kind !== 'training');
  const withRef = { ...base, reference: reference.runId, referenceSource: source };
  if (!current)
    return { status: { ...withRef, status: 'no_runs', note: 'no materialize or backfill run besides the reference' } };
  const features: FeatureDriftStatus[] = [];
  for (const [name, cur] of Object.entries(current.features)) {
    const ref = reference.features[name];
    if (!ref || ref.kind !== cur.kind) continue;
    const scores = cur.driftFrom(ref);
    const thresholds = effectiveThresholds(view, name);
    const breaches = DRIFT_METRICS.filter((m) => {
      const s = scoreOf(scores, m);
      return s !== null && s > thresholds[m];
    });
    features.push({ feature: name, kind: cur.kind, scores, thresholds, breaches, breached: breaches.length > 0 });
  }
  const drifted = features.some((f) => f.breached);
  return {
    status: { ...withRef, run: current.runId, status: drifted ? 'drifted' : 'ok', features },
    current,
    reference,
  };
}

/**
 * The runs `evaluate` needs, not every recorded one: the reference (the named run, else the latest
 * training run) and the two latest materialize or backfill runs (the current one is the latest that
 * is not the reference). Only these runs' statistics are read.
 */
async function candidateRuns(
  statistics: NonNullable<DriftRepo['statistics']>,
  view: OnlineView,
  referenceOption?: string,
): Promise<StatisticsRun[]> {
  const wanted = referenceOption ?? view.monitoring?.reference;
  const [reference, latest] = await Promise.all([
    statistics(view.name, wanted !== undefined ? { runId: wanted } : { kind: 'training', limit: 1 }),
    statistics(view.name, { kind: ['materialize', 'backfill'], limit: 2 }),
  ]);
  const seen = new Set(latest.map((r) => r.runId));
  return [...latest, ...reference.filter((r) => !seen.has(r.runId))];
}

async function evaluateAll(repo: DriftRepo, options: DriftMonitorOptions): Promise<Evaluated[]> {
  const only = options.views ? new Set(options.views) : undefined;
  const views = [...indexRepo(repo as OnlineRepo).views.values()]
    .map((v) => v.view)
    .filter((v) => !only || only.has(v.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (typeof repo.statistics !== 'function') return [];
  const out: Evaluated[] = [];
  for (const v of views) {
    let runs: readonly StatisticsRun[];
    try {
      runs = await candidateRuns(repo.statistics.bind(repo), v, options.reference);
    } catch (err) {
      // a corrupt run file must not hide the freshness check: the view is reported, not checked
      const base = { view: v.name, run: null, reference: null, referenceSource: null, features: [] };
      out.push({ status: { ...base, status: 'unreadable', note: (err as Error).message } });
      continue;
    }
    out.push(evaluate(v, runs, options.reference));
  }
  if (options.reference !== undefined && out.length && out.every((e) => e.status.status === 'no_reference'))
    throw new StrataError('NOT_FOUND', `no feature view has a statistics run ${options.reference}`, {
      key: options.reference,
      field: 'reference',
      hint: 'list the runs with `strata stats <view>`; run ids are the file names under .strata/stats/<view>/',
    });
  return out;
}

/** Drift per view (name order) of the latest run against the reference. */
export async function viewDriftStatus(repo: DriftRepo, options: DriftMonitorOptions = {}): Promise<ViewDriftStatus[]> {
  return (await evaluateAll(repo, options)).map((e) => e.status);
}

/**
 * The same, as the monitoring page's per-feature statistics (current, reference, scores, limits);
 * a view with runs but no reference shows its latest run's histograms alone.
 */
export async function driftFeatureMonitors(
  repo: DriftRepo,
  options: DriftMonitorOptions = {},
): Promise<FeatureMonitor[]> {
  const out: FeatureMonitor[] = [];
  for (const e of await evaluateAll(repo, options)) {
    if (!e.current) continue;
    if (!e.reference) {
      // no reference: the latest run's histograms alone
      for (const [feature, current] of Object.entries(e.current.features))
        out.push({ view: e.status.view, feature, current });
      continue;
    }
    for (const f of e.status.features)
      out.push({
        view: e.status.view,
        feature: f.feature,
        current: e.current.features[f.feature],
        reference: e.reference.features[f.feature],
        referenceName: e.reference.runId,
        drift: f.scores,
        thresholds: f.thresholds,
      });
  }
  return out;
}

/**
 * Drift statuses for `/metrics`, re-read at most every `ttlMs` (default 30 s): the first read waits,
 * later reads answer from the cache at once and refresh it in the background when it is older.
 * A failed refresh keeps the previous answer.
 */
export class DriftStatusCache {
  readonly #repo: DriftRepo;
  readonly #ttlMs: number;
  #value: ViewDriftStatus[] | undefined;
  #atMs = 0;
  #pending: Promise<ViewDriftStatus[]> | undefined;

  constructor(repo: DriftRepo, options: { readonly ttlMs?: number } = {}) {
    this.#repo = repo;
    this.#ttlMs = options.ttlMs ?? 30_000;
  }

  async read(): Promise<readonly ViewDriftStatus[]> {
    if (typeof this.#repo.statistics !== 'function') return [];
    const stale = Date.now() - this.#atMs >= this.#ttlMs;
    if (stale && !this.#pending) {
      this.#pending = viewDriftStatus(this.#repo)
        .then((v) => {
          this.#value = v;
          this.#atMs = Date.now();
          return v;
        })
        .finally(() => (this.#pending = undefined));
    }
    if (this.#value) {
      this.#pending?.catch(() => undefined);
      return this.#value;
    }
    return this.#pending ?? [];
  }
}
