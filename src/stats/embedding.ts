/**
 * Statistics of an embedding column, all mergeable by addition: the count, the sum vector (so the
 * mean vector), the distribution of norms (moments and a DDSketch), a random-projection sketch (the
 * moments and quantiles of the vectors projected on `PROJECTIONS` fixed random directions) and the
 * mean random-Fourier-feature embedding of the unit vectors (Rahimi and Recht, 2007), from which the
 * maximum mean discrepancy (MMD) of two columns under a Gaussian kernel is estimated without keeping
 * any vector. Directions and features come from a fixed seed, so every run and shard draws the same.
 */
import { prng } from '../random.js';
import {
  type DDSketchJson,
  type DDSketchState,
  addToSketch,
  mergeSketch,
  newDDSketch,
  sketchFromJson,
  sketchToJson,
} from './ddsketch.js';
import {
  type MomentsJson,
  type MomentsState,
  addMoment,
  mergeMoments,
  momentsFromJson,
  momentsToJson,
  newMoments,
} from './moments.js';

export const PROJECTIONS = 8;
export const FOURIER_FEATURES = 64;
/** Kernel bandwidth σ of the MMD on unit vectors: k(x, y) = exp(−‖x − y‖² / 2σ²). */
export const MMD_BANDWIDTH = 0.5;
const SEED = 0x5eed_57a7;

export interface EmbeddingStatsState {
  readonly dim: number;
  count: number;
  nulls: number;
  readonly sum: Float64Array;
  readonly norm: MomentsState;
  readonly normSketch: DDSketchState;
  readonly projections: { readonly moments: MomentsState; readonly sketch: DDSketchState }[];
  /** Sum over vectors of the Fourier features of the unit vector. */
  readonly fourier: Float64Array;
}

interface Basis {
  /** PROJECTIONS unit directions, row-major. */
  readonly directions: Float64Array;
  /** FOURIER_FEATURES frequency vectors, row-major, drawn from N(0, 1/σ²). */
  readonly frequencies: Float64Array;
  readonly phases: Float64Array;
}

const bases = new Map<number, Basis>();

function basis(dim: number): Basis {
  let b = bases.get(dim);
  if (b) return b;
  const rand = prng(SEED ^ dim);
  const gauss = (): number => {
    const u = 1 - rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const directions = new Float64Array(PROJECTIONS * dim);
  for (let p = 0; p < PROJECTIONS; p++) {
    let n = 0;
    for (let i = 0; i < dim; i++) {
      const g = gauss();
      directions[p * dim + i] = g;
      n += g * g;
    }
    n = Math.sqrt(n);
    for (let i = 0; i < dim; i++) directions[p * dim + i] /= n;
  }
  const frequencies = new Float64Array(FOURIER_FEATURES * dim);
  for (let i = 0; i < frequencies.length; i++) frequencies[i] = gauss() / MMD_BANDWIDTH;
  const phases = new Float64Array(FOURIER_FEATURES);
  for (let j = 0; j < FOURIER_FEATURES; j++) phases[j] = 2 * Math.PI * rand();
  b = { directions, frequencies, phases };
  bases.set(dim, b);
  return b;
}

export function newEmbeddingStats(dim: number): EmbeddingStatsState {
  return {
    dim,
    count: 0,
    nulls: 0,
    sum: new Float64Array(dim),
    norm: newMoments(),
    normSketch: newDDSketch(),
    projections: Array.from({ length: PROJECTIONS }, () => ({ moments: newMoments(), sketch: newDDSketch() })),
    fourier: new Float64Array(FOURIER_FEATURES),
  };
}

/** Adds one vector (null counts as a null; a vector of another length is a RangeError). */
export function addEmbedding(s: EmbeddingStatsState, v: ArrayLike<number> | null | undefined): void {
  if (v === null || v === undefined) {
    s.nulls++;
    return;
  }
  const d = s.dim;
  if (v.length !== d) throw new RangeError(`embedding of length ${v.length} in statistics of dimension ${d}`);
  const b = basis(d);
  s.count++;
  let sq = 0;
  for (let i = 0; i < d; i++) {
    s.sum[i] += v[i];
    sq += v[i] * v[i];
  }
  const norm = Math.sqrt(sq);
  addMoment(s.norm, norm);
  addToSketch(s.normSketch, norm);
  for (let p = 0; p < PROJECTIONS; p++) {
    let dot = 0;
    const o = p * d;
    for (let i = 0; i < d; i++) dot += b.directions[o + i] * v[i];
    addMoment(s.projections[p].moments, dot);
    addToSketch(s.projections[p].sketch, dot);
  }
  const inv = norm > 0 ? 1 / norm : 0;
  const scale = Math.sqrt(2 / FOURIER_FEATURES);
  for (let j = 0; j < FOURIER_FEATURES; j++) {
    let dot = 0;
    const o = j * d;
    for (let i = 0; i < d; i++) dot += b.frequencies[o + i] * v[i];
    s.fourier[j] += scale * Math.cos(dot * inv + b.phases[j]);
  }
}

export function mergeEmbeddingStats(a: EmbeddingStatsState, b: Readonly<EmbeddingStatsState>): void {
  if (a.dim !== b.dim) throw new RangeError(`cannot merge embedding statistics of dimensions ${a.dim} and ${b.dim}`);
  a.count += b.count;
  a.nulls += b.nulls;
  for (let i = 0; i < a.dim; i++) a.sum[i] += b.sum[i];
  mergeMoments(a.norm, b.norm);
  mergeSketch(a.normSketch, b.normSketch);
  for (let p = 0; p < PROJECTIONS; p++) {
    mergeMoments(a.projections[p].moments, b.projections[p].moments);
    mergeSketch(a.projections[p].sketch, b.projections[p].sketch);
  }
  for (let j = 0; j < FOURIER_FEATURES; j++) a.fourier[j] += b.fourier[j];
}

export function meanVector(s: Readonly<EmbeddingStatsState>): Float64Array | null {
  if (s.count === 0) return null;
  return s.sum.map((x) => x / s.count);
}

/** Cosine distance (1 − cosine similarity) between two columns' mean vectors; null if either is empty or zero. */
export function meanCosineShift(a: Readonly<EmbeddingStatsState>, b: Readonly<EmbeddingStatsState>): number | null {
  if (a.dim !== b.dim || a.count === 0 || b.count === 0) return null;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.dim; i++) {
    dot += a.sum[i] * b.sum[i];
    na += a.sum[i] * a.sum[i];
    nb += b.sum[i] * b.sum[i];
  }
  if (na === 0 || nb === 0) return null;
  return 1 - dot / Math.sqrt(na * nb);
}

/**
 * Squared MMD of the two columns' unit vectors under the Gaussian kernel of bandwidth
 * `MMD_BANDWIDTH`, estimated from the mean Fourier features: ‖mean φ(X) − mean φ(Y)‖². About 0 for
 * the same distribution (up to sampling noise of order 1/n), up to 2 for disjoint ones.
 */
export function mmd2(a: Readonly<EmbeddingStatsState>, b: Readonly<EmbeddingStatsState>): number | null {
  if (a.dim !== b.dim || a.count === 0 || b.count === 0) return null;
  let s = 0;
  for (let j = 0; j < FOURIER_FEATURES; j++) {
    const d = a.fourier[j] / a.count - b.fourier[j] / b.count;
    s += d * d;
  }
  return s;
}

export interface EmbeddingStatsJson {
  readonly dim: number;
  readonly count: number;
  readonly nulls: number;
  readonly sum: readonly number[];
  readonly norm: MomentsJson;
  readonly normSketch: DDSketchJson;
  readonly projections: readonly { readonly moments: MomentsJson; readonly sketch: DDSketchJson }[];
  readonly fourier: readonly number[];
}

export function embeddingStatsToJson(s: Readonly<EmbeddingStatsState>): EmbeddingStatsJson {
  return {
    dim: s.dim,
    count: s.count,
    nulls: s.nulls,
    sum: [...s.sum],
    norm: momentsToJson(s.norm),
    normSketch: sketchToJson(s.normSketch),
    projections: s.projections.map((p) => ({ moments: momentsToJson(p.moments), sketch: sketchToJson(p.sketch) })),
    fourier: [...s.fourier],
  };
}

export function embeddingStatsFromJson(j: EmbeddingStatsJson): EmbeddingStatsState {
  return {
    dim: j.dim,
    count: j.count,
    nulls: j.nulls,
    sum: Float64Array.from(j.sum),
    norm: momentsFromJson(j.norm),
    normSketch: sketchFromJson(j.normSketch),
    projections: j.projections.map((p) => ({ moments: momentsFromJson(p.moments), sketch: sketchFromJson(p.sketch) })),
    fourier: Float64Array.from(j.fourier),
  };
}
