/**
 * DDSketch (Masson, Rim and Lee, VLDB 2019): quantiles with a relative-error guarantee. A value goes
 * to the bucket `ceil(log_γ |x|)` with γ = (1 + α) / (1 − α), so any quantile it answers is within
 * α (relative) of a value at that rank. Buckets are counts, so merging two sketches gives exactly
 * the sketch of one pass over both inputs, whatever the split or order — shards and runs combine
 * without drift. Magnitudes below `MIN_MAGNITUDE` count as zero. Past `maxBuckets` buckets per sign
 * the lowest magnitudes are folded together (the guarantee then holds for the upper quantiles only).
 */
export const DDSKETCH_RELATIVE_ACCURACY = 0.01;
const MIN_MAGNITUDE = 1e-12;
const MAX_BUCKETS = 4096;

export interface DDSketchState {
  readonly alpha: number;
  /** Bucket index → count, values above zero. */
  readonly positive: Map<number, number>;
  /** Bucket index (of |x|) → count, values below zero. */
  readonly negative: Map<number, number>;
  zeros: number;
  count: number;
  min: number;
  max: number;
}

export function newDDSketch(alpha = DDSKETCH_RELATIVE_ACCURACY): DDSketchState {
  return { alpha, positive: new Map(), negative: new Map(), zeros: 0, count: 0, min: Infinity, max: -Infinity };
}

function gammaLn(alpha: number): number {
  return Math.log((1 + alpha) / (1 - alpha));
}

/** Adds a finite value (callers count nulls and NaN themselves). */
export function addToSketch(s: DDSketchState, x: number, lnGamma = gammaLn(s.alpha)): void {
  s.count++;
  if (x < s.min) s.min = x;
  if (x > s.max) s.max = x;
  const mag = Math.abs(x);
  if (mag < MIN_MAGNITUDE) {
    s.zeros++;
    return;
  }
  const store = x > 0 ? s.positive : s.negative;
  const i = Math.ceil(Math.log(mag) / lnGamma);
  store.set(i, (store.get(i) ?? 0) + 1);
  if (store.size > MAX_BUCKETS) collapseLowest(store);
}

/** Adds every finite value of an array. */
export function addAllToSketch(s: DDSketchState, xs: ArrayLike<number>): void {
  const lg = gammaLn(s.alpha);
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) addToSketch(s, xs[i], lg);
}

function collapseLowest(store: Map<number, number>): void {
  const keys = [...store.keys()].sort((a, b) => a - b);
  const fold = keys.length - MAX_BUCKETS + 1;
  let sum = 0;
  for (let k = 0; k < fold; k++) {
    sum += store.get(keys[k]) ?? 0;
    store.delete(keys[k]);
  }
  const into = keys[fold];
  store.set(into, (store.get(into) ?? 0) + sum);
}

/** Folds `b` into `a` (both must have the same α). */
export function mergeSketch(a: DDSketchState, b: Readonly<DDSketchState>): void {
  if (a.alpha !== b.alpha) throw new RangeError(`cannot merge DDSketches of accuracy ${a.alpha} and ${b.alpha}`);
  for (const [k, v] of b.positive) a.positive.set(k, (a.positive.get(k) ?? 0) + v);
  for (const [k, v] of b.negative) a.negative.set(k, (a.negative.get(k) ?? 0) + v);
  if (a.positive.size > MAX_BUCKETS) collapseLowest(a.positive);
  if (a.negative.size > MAX_BUCKETS) collapseLowest(a.negative);
  a.zeros += b.zeros;
  a.count += b.count;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
}

function bucketValue(i: number, lnGamma: number): number {
  const g = Math.exp(lnGamma);
  return (2 * Math.exp(i * lnGamma)) / (g + 1);
}

/** Buckets in ascending order of value: [representative value, count]. */
function* ascending(s: Readonly<DDSketchState>, lnGamma: number): Generator<[number, number]> {
  for (const k of [...s.negative.keys()].sort((a, b) => b - a))
    yield [-bucketValue(k, lnGamma), s.negative.get(k) ?? 0];
  if (s.zeros > 0) yield [0, s.zeros];
  for (const k of [...s.positive.keys()].sort((a, b) => a - b)) yield [bucketValue(k, lnGamma), s.positive.get(k) ?? 0];
}

/**
 * The value at quantile `q` (0..1): within α (relative) of the input value of rank ⌊q·(n−1)⌋, and
 * never outside [min, max]. Null for an empty sketch.
 */
export function sketchQuantile(s: Readonly<DDSketchState>, q: number): number | null {
  if (s.count === 0) return null;
  if (q <= 0) return s.min;
  if (q >= 1) return s.max;
  const rank = q * (s.count - 1);
  let seen = 0;
  for (const [v, c] of ascending(s, gammaLn(s.alpha))) {
    seen += c;
    if (seen > rank) return Math.min(s.max, Math.max(s.min, v));
  }
  return s.max;
}

/**
 * The fraction of values at or below each cut (ascending cuts), read from the buckets: a bucket
 * counts as below a cut when its representative value is.
 */
export function sketchCdf(s: Readonly<DDSketchState>, cuts: readonly number[]): number[] {
  const out = new Array<number>(cuts.length).fill(0);
  if (s.count === 0) return out;
  const lg = gammaLn(s.alpha);
  for (const [v, c] of ascending(s, lg)) {
    for (let j = 0; j < cuts.length; j++) if (v <= cuts[j]) out[j] += c;
  }
  return out.map((c) => c / s.count);
}

export interface DDSketchJson {
  readonly alpha: number;
  /** [bucket, count] pairs. */
  readonly positive: readonly (readonly [number, number])[];
  readonly negative: readonly (readonly [number, number])[];
  readonly zeros: number;
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
}

export function sketchToJson(s: Readonly<DDSketchState>): DDSketchJson {
  const sorted = (m: Map<number, number>) => [...m.entries()].sort((a, b) => a[0] - b[0]);
  return {
    alpha: s.alpha,
    positive: sorted(s.positive),
    negative: sorted(s.negative),
    zeros: s.zeros,
    count: s.count,
    min: s.count ? s.min : null,
    max: s.count ? s.max : null,
  };
}

export function sketchFromJson(j: DDSketchJson): DDSketchState {
  return {
    alpha: j.alpha,
    positive: new Map(j.positive.map(([k, v]) => [k, v])),
    negative: new Map(j.negative.map(([k, v]) => [k, v])),
    zeros: j.zeros,
    count: j.count,
    min: j.min ?? Infinity,
    max: j.max ?? -Infinity,
  };
}
