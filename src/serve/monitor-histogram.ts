/**
 * Histograms for the monitoring page, read from mergeable statistics (no values kept): numbers and
 * embedding norms from their DDSketches over common equal-width bins spanning both sides; categories
 * from their frequent-value counts over the union of both sides' most frequent values.
 */
import { binsFromCdf, sketchCdf, sketchFromJson, type ColumnStatistics, type DDSketchJson } from '../stats/index.js';
import type { MonitorHistogram } from './viewer/monitor-wire.js';

/** Bins of a number histogram. */
export const HISTOGRAM_BINS = 24;
/** Categories drawn before the rest is folded into `(other)`. */
export const HISTOGRAM_CATEGORIES = 12;

function sketchOf(s: ColumnStatistics): DDSketchJson | undefined {
  const j = s.toJSON();
  if (j.kind === 'numeric') return j.sketch;
  if (j.kind === 'embedding') return j.embedding.normSketch;
  return undefined;
}

function countsOf(s: ColumnStatistics): Map<string, number> | undefined {
  const j = s.toJSON();
  return j.kind === 'categorical' ? new Map(j.counts.map(([k, v]) => [k, v])) : undefined;
}

/** The histogram of `current`, with `reference` over the same bins when given. */
export function featureHistogram(current: ColumnStatistics, reference?: ColumnStatistics): MonitorHistogram {
  const cur = sketchOf(current);
  if (cur) {
    const ref = reference ? sketchOf(reference) : undefined;
    const mins = [cur.min, ref?.min].filter((x): x is number => typeof x === 'number');
    const maxs = [cur.max, ref?.max].filter((x): x is number => typeof x === 'number');
    let lo = mins.length ? Math.min(...mins) : 0;
    let hi = maxs.length ? Math.max(...maxs) : 1;
    if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
    const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => lo + ((hi - lo) * i) / HISTOGRAM_BINS);
    const bins = (j: DDSketchJson): number[] => {
      if (j.count === 0) return new Array<number>(HISTOGRAM_BINS).fill(0);
      return binsFromCdf(sketchCdf(sketchFromJson(j), edges.slice(1, -1)));
    };
    return { edges, current: bins(cur), reference: ref ? bins(ref) : null };
  }
  const c = countsOf(current) ?? new Map<string, number>();
  const r = reference ? countsOf(reference) : undefined;
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const ct = total(c);
  const rt = r ? total(r) : 0;
  const weight = new Map<string, number>();
  for (const [k, v] of c) weight.set(k, (weight.get(k) ?? 0) + v / Math.max(1, ct));
  if (r) for (const [k, v] of r) weight.set(k, (weight.get(k) ?? 0) + v / Math.max(1, rt));
  const ranked = [...weight.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
  const labels = ranked.slice(0, HISTOGRAM_CATEGORIES);
  const other = ranked.length > labels.length;
  const fractions = (m: Map<string, number>, t: number): number[] => {
    const out = labels.map((k) => (t > 0 ? (m.get(k) ?? 0) / t : 0));
    if (other) out.push(t > 0 ? Math.max(0, 1 - out.reduce((a, b) => a + b, 0)) : 0);
    return out;
  };
  return {
    labels: other ? [...labels, '(other)'] : labels,
    current: fractions(c, ct),
    reference: r ? fractions(r, rt) : null,
  };
}
