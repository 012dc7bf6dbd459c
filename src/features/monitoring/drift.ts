/**
 * A view's drift report: each feature's scores between a reference run's statistics and the current
 * run's (PSI, Jensen–Shannon; embeddings also mean cosine shift and MMD², see src/stats/drift.ts),
 * checked against the thresholds the view declares (`monitoring.drift`, see thresholds.ts).
 */
import { StrataError } from '../../errors.js';
import type { DriftScores } from '../../stats/drift.js';
import type { ColumnStatsKind } from '../../stats/column.js';
import type { DriftMetric, DriftThresholds, FeatureView } from '../definitions/types.js';
import type { StatisticsRun } from './runs.js';
import { thresholdsOf } from './thresholds.js';

export interface FeatureDrift {
  readonly feature: string;
  readonly kind: ColumnStatsKind;
  readonly scores: DriftScores;
  /** The thresholds that apply (the feature's own, else the view's `*`); undefined when none. */
  readonly thresholds?: DriftThresholds;
  /** Metrics whose score is above its threshold. */
  readonly breaches: readonly DriftMetric[];
  readonly breached: boolean;
}

export interface ViewDriftReport {
  readonly view: string;
  /** Run id of the current statistics. */
  readonly run: string;
  /** Run id of the reference. */
  readonly reference: string;
  readonly features: readonly FeatureDrift[];
  /** True when any feature breached a threshold. */
  readonly breached: boolean;
}

export interface DriftOptions {
  /** Run id of the reference statistics (e.g. the run that built the training set). */
  readonly reference: string;
  /** Run id to compare. Default: the latest run of the view (other than the reference). */
  readonly run?: string;
}

/** The score a metric names. */
export function scoreOf(scores: DriftScores, metric: DriftMetric): number | null {
  switch (metric) {
    case 'psi':
      return scores.psi;
    case 'js':
      return scores.jsDivergence;
    case 'meanShift':
      return scores.meanCosineShift ?? null;
    case 'mmd2':
      return scores.mmd2 ?? null;
  }
}

/** Drift of every feature the two runs share (features of another kind in one of them are left out). */
export function viewDrift(view: FeatureView, current: StatisticsRun, reference: StatisticsRun): ViewDriftReport {
  const features: FeatureDrift[] = [];
  for (const [name, cur] of Object.entries(current.features)) {
    const ref = reference.features[name];
    if (!ref || ref.kind !== cur.kind) continue;
    const scores = cur.driftFrom(ref);
    const thresholds = thresholdsOf(view.monitoring, name);
    const breaches: DriftMetric[] = [];
    for (const [metric, limit] of Object.entries(thresholds ?? {}) as [DriftMetric, number][]) {
      const s = scoreOf(scores, metric);
      if (s !== null && s > limit) breaches.push(metric);
    }
    features.push({
      feature: name,
      kind: cur.kind,
      scores,
      ...(thresholds ? { thresholds } : {}),
      breaches,
      breached: breaches.length > 0,
    });
  }
  return {
    view: view.name,
    run: current.runId,
    reference: reference.runId,
    features,
    breached: features.some((f) => f.breached),
  };
}

/** `repo.drift`: picks the reference and current runs among a view's runs (latest first) and compares them. */
export function driftOfRuns(view: FeatureView, runs: readonly StatisticsRun[], options: DriftOptions): ViewDriftReport {
  const find = (id: string, field: string): StatisticsRun => {
    const r = runs.find((x) => x.runId === id);
    if (!r)
      throw new StrataError('NOT_FOUND', `feature view ${view.name} has no statistics run ${id}`, {
        key: id,
        field,
        hint: runs.length
          ? `runs (latest first): ${runs
              .slice(0, 5)
              .map((x) => x.runId)
              .join(', ')}`
          : 'materialize or backfill the view first',
      });
    return r;
  };
  const reference = find(options.reference, 'reference');
  const current = options.run !== undefined ? find(options.run, 'run') : runs.find((r) => r !== reference);
  if (!current)
    throw new StrataError('NOT_FOUND', `feature view ${view.name} has no run to compare with ${options.reference}`, {
      key: view.name,
      hint: 'materialize the view again, then compare',
    });
  return viewDrift(view, current, reference);
}
