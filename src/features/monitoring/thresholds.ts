/**
 * Drift thresholds declared on a feature view (docs/MONITORING.md):
 *
 *   monitoring:
 *     drift:
 *       '*':        { psi: 0.25 }              # every feature of the view without its own entry
 *       trip_count: { psi: 0.2, js: 0.1 }
 *       user_emb:   { mean_shift: 0.05, mmd2: 0.02 }
 *     reference: train-2026-12                # optional: the run drift is measured from
 *
 * Each metric is a non-negative finite number; a feature breaches when any of its declared metrics
 * scores above its threshold.
 */
import { checkFields, didYouMean, type Issues } from '../definitions/issues.js';

import { RUN_ID } from './runs.js';
import { DRIFT_METRICS, type DriftMetric, type DriftThresholds, type ViewMonitoring } from '../definitions/types.js';

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** Validates a view's `monitoring` against its feature names; problems go to `issues`. */
export function validateMonitoring(
  issues: Issues,
  def: object,
  obj: string,
  monitoring: unknown,
  features: readonly string[],
): ViewMonitoring | undefined {
  if (monitoring === undefined) return undefined;
  if (!isObject(monitoring)) {
    issues.add(
      def,
      obj,
      'monitoring',
      'monitoring must be a map',
      'e.g. monitoring: { drift: { amount: { psi: 0.2 } } }',
    );
    return undefined;
  }
  checkFields(issues, def, obj, ['drift', 'reference'], 'monitoring.', monitoring);
  let reference: string | undefined;
  if (monitoring.reference !== undefined) {
    const r = monitoring.reference;
    if (typeof r !== 'string' || !RUN_ID.test(r) || r.includes('.shard-')) {
      issues.add(
        def,
        obj,
        'monitoring.reference',
        `reference must be a statistics run id, got ${JSON.stringify(r)}`,
        'e.g. reference: train-2026-12 (a run id from `strata stats <view>`)',
      );
      return undefined;
    }
    reference = r;
  }
  const ref = reference !== undefined ? { reference } : {};
  const drift = monitoring.drift;
  if (drift === undefined) return ref;
  if (!isObject(drift)) {
    issues.add(
      def,
      obj,
      'monitoring.drift',
      'drift must map feature names to thresholds',
      'e.g. drift: { amount: { psi: 0.2 } }',
    );
    return undefined;
  }
  const out: Record<string, DriftThresholds> = {};
  for (const [feature, t] of Object.entries(drift)) {
    const at = `monitoring.drift.${feature}`;
    if (feature !== '*' && !features.includes(feature)) {
      issues.add(
        def,
        obj,
        at,
        `no feature ${feature} in this view`,
        `${didYouMean(feature, features)}features: ${features.join(', ')} (or '*' for all)`,
      );
      continue;
    }
    if (!isObject(t)) {
      issues.add(def, obj, at, 'thresholds must be a map of metric to number', 'e.g. { psi: 0.2, js: 0.1 }');
      continue;
    }
    const thresholds: Partial<Record<DriftMetric, number>> = {};
    for (const [rawKey, v] of Object.entries(t)) {
      const key = rawKey === 'mean_shift' ? 'meanShift' : rawKey;
      if (!(DRIFT_METRICS as readonly string[]).includes(key)) {
        issues.add(
          def,
          obj,
          `${at}.${rawKey}`,
          `unknown drift metric ${rawKey}`,
          `${didYouMean(rawKey, DRIFT_METRICS)}metrics: psi, js, mean_shift, mmd2`,
        );
        continue;
      }
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        issues.add(
          def,
          obj,
          `${at}.${rawKey}`,
          `threshold must be a non-negative number, got ${JSON.stringify(v)}`,
          'e.g. psi: 0.2',
        );
        continue;
      }
      thresholds[key as DriftMetric] = v;
    }
    out[feature] = thresholds;
  }
  return { drift: out, ...ref };
}

/** The thresholds that apply to a feature (its own, else the view's `*`), or undefined. */
export function thresholdsOf(monitoring: ViewMonitoring | undefined, feature: string): DriftThresholds | undefined {
  return monitoring?.drift?.[feature] ?? monitoring?.drift?.['*'];
}
