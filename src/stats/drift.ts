/**
 * Drift between a reference's statistics and the current ones, from the stored sketches only (no
 * data is re-read). Numeric columns: the reference's deciles cut both distributions into bins;
 * categorical columns: the union of both frequent-item lists plus "other". On those bins, the
 * population stability index (PSI = Σ (c − r)·ln(c / r)) and the Jensen–Shannon divergence (base 2,
 * in [0, 1]). Embedding columns: the mean vector's cosine shift, the squared MMD of the unit vectors
 * (random Fourier features) and the PSI of the norms. Empty bins are smoothed by `EPSILON` so PSI
 * stays finite.
 */
import { type ColumnStatsState } from './column.js';
import { type DDSketchState, sketchCdf, sketchQuantile } from './ddsketch.js';
import { meanCosineShift, mmd2 } from './embedding.js';

const EPSILON = 1e-4;
const BINS = 10;

export interface DriftScores {
  readonly psi: number | null;
  readonly jsDivergence: number | null;
  /** Embeddings: 1 − cosine of the mean vectors. */
  readonly meanCosineShift?: number | null;
  /** Embeddings: squared maximum mean discrepancy of the unit vectors. */
  readonly mmd2?: number | null;
}

/** PSI of two distributions over the same bins (fractions, each summing to 1). */
export function psi(reference: readonly number[], current: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i], EPSILON);
    const c = Math.max(current[i], EPSILON);
    s += (c - r) * Math.log(c / r);
  }
  return s;
}

/** Jensen–Shannon divergence, base 2 (0 = same, 1 = disjoint). */
export function jsDivergence(reference: readonly number[], current: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i];
    const c = current[i];
    const m = (r + c) / 2;
    if (r > 0) s += 0.5 * r * Math.log2(r / m);
    if (c > 0) s += 0.5 * c * Math.log2(c / m);
  }
  return Math.max(0, Math.min(1, s));
}

/** The fractions of each sketch in the bins cut at the reference's deciles. */
export function sketchBins(
  reference: DDSketchState,
  current: DDSketchState,
): { reference: number[]; current: number[] } {
  const cuts: number[] = [];
  for (let i = 1; i < BINS; i++) {
    const q = sketchQuantile(reference, i / BINS);
    if (q !== null && (cuts.length === 0 || q > cuts[cuts.length - 1])) cuts.push(q);
  }
  return { reference: binsFromCdf(sketchCdf(reference, cuts)), current: binsFromCdf(sketchCdf(current, cuts)) };
}

/** The shares of the bins between consecutive cut points, from the CDF at the cuts (one more bin than cuts). */
export function binsFromCdf(cdf: readonly number[]): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const c of cdf) {
    out.push(c - prev);
    prev = c;
  }
  out.push(1 - prev);
  return out;
}

function scores(bins: { reference: number[]; current: number[] }): { psi: number; jsDivergence: number } {
  return { psi: psi(bins.reference, bins.current), jsDivergence: jsDivergence(bins.reference, bins.current) };
}

/** Drift of `current` from `reference` (same kind of statistics); nulls when either side is empty. */
export function drift(reference: ColumnStatsState, current: ColumnStatsState): DriftScores {
  if (reference.kind !== current.kind)
    throw new RangeError(`cannot compare ${reference.kind} statistics with ${current.kind}`);
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    if (reference.sketch.count === 0 || current.sketch.count === 0) return { psi: null, jsDivergence: null };
    return scores(sketchBins(reference.sketch, current.sketch));
  }
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    const r = reference.frequent;
    const c = current.frequent;
    if (r.count === 0 || c.count === 0) return { psi: null, jsDivergence: null };
    const keys = [...new Set([...r.counts.keys(), ...c.counts.keys()])].sort();
    const fractions = (f: typeof r): number[] => {
      const out = keys.map((k) => (f.counts.get(k) ?? 0) / f.count);
      out.push(Math.max(0, 1 - out.reduce((a, b) => a + b, 0)));
      return out;
    };
    const bins = { reference: fractions(r), current: fractions(c) };
    return scores(bins);
  }
  if (reference.kind === 'embedding' && current.kind === 'embedding') {
    const r = reference.embedding;
    const c = current.embedding;
    if (r.count === 0 || c.count === 0) return { psi: null, jsDivergence: null, meanCosineShift: null, mmd2: null };
    return {
      ...scores(sketchBins(r.normSketch, c.normSketch)),
      meanCosineShift: meanCosineShift(r, c),
      mmd2: mmd2(r, c),
    };
  }
  throw new RangeError('unreachable');
}
