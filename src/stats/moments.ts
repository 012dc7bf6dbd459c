/**
 * Count, nulls, min, max, mean and the sum of squared deviations of a numeric column, kept with
 * Welford's update and merged with Chan's formula, so shards combine to one pass's figures (up to
 * floating-point rounding).
 */
export interface MomentsState {
  count: number;
  nulls: number;
  min: number;
  max: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
}

export function newMoments(): MomentsState {
  return { count: 0, nulls: 0, min: Infinity, max: -Infinity, mean: 0, m2: 0 };
}

/** Adds one value; `null`, `undefined` and NaN count as nulls. */
export function addMoment(m: MomentsState, x: number | null | undefined): void {
  if (x === null || x === undefined || Number.isNaN(x)) {
    m.nulls++;
    return;
  }
  m.count++;
  if (x < m.min) m.min = x;
  if (x > m.max) m.max = x;
  const d = x - m.mean;
  m.mean += d / m.count;
  m.m2 += d * (x - m.mean);
}

/** Folds `b` into `a`. */
export function mergeMoments(a: MomentsState, b: Readonly<MomentsState>): void {
  a.nulls += b.nulls;
  if (b.count === 0) return;
  if (a.count === 0) {
    Object.assign(a, { ...b, nulls: a.nulls });
    return;
  }
  const n = a.count + b.count;
  const delta = b.mean - a.mean;
  a.mean += (delta * b.count) / n;
  a.m2 += b.m2 + (delta * delta * a.count * b.count) / n;
  a.count = n;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
}

/** Sample standard deviation (`stddev_samp`, what DuckDB's and pandas' `std` return); null below 2 values. */
export function stddev(m: Readonly<MomentsState>): number | null {
  return m.count < 2 ? null : Math.sqrt(m.m2 / (m.count - 1));
}

/** Moments as JSON (infinite min/max of an empty column become null). */
export interface MomentsJson {
  readonly count: number;
  readonly nulls: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number;
  readonly m2: number;
}

export function momentsToJson(m: Readonly<MomentsState>): MomentsJson {
  return { ...m, min: m.count ? m.min : null, max: m.count ? m.max : null };
}

export function momentsFromJson(j: MomentsJson): MomentsState {
  return { ...j, min: j.min ?? Infinity, max: j.max ?? -Infinity };
}
