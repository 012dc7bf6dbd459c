/**
 * Statistics of one column, recorded as a job goes and merged across shards and batches: numeric
 * columns keep moments, a DDSketch for quantiles and an HLL distinct count; categorical (text,
 * boolean) columns keep frequent items and an HLL distinct count; embedding columns keep
 * `EmbeddingStatsState`. Every part merges by addition (HLL: register max), so the statistics of a
 * job run in shards equal those of one pass (exactly for counts, buckets and registers; means up to
 * floating-point rounding).
 */
import {
  type DDSketchJson,
  type DDSketchState,
  addToSketch,
  mergeSketch,
  newDDSketch,
  sketchFromJson,
  sketchQuantile,
  sketchToJson,
} from './ddsketch.js';
import {
  type EmbeddingStatsJson,
  type EmbeddingStatsState,
  addEmbedding,
  embeddingStatsFromJson,
  embeddingStatsToJson,
  meanVector,
  mergeEmbeddingStats,
  newEmbeddingStats,
} from './embedding.js';
import { type FrequentState, addFrequent, mergeFrequent, newFrequent, topK } from './frequent.js';
import { hashNumber, hashValue, hllAdd, hllEstimate, hllMerge, hllNew } from './hll.js';
import {
  type MomentsJson,
  type MomentsState,
  addMoment,
  mergeMoments,
  momentsFromJson,
  momentsToJson,
  newMoments,
  stddev,
} from './moments.js';

export type ColumnStatsKind = 'numeric' | 'categorical' | 'embedding';

export type ColumnStatsState =
  | {
      readonly kind: 'numeric';
      readonly moments: MomentsState;
      readonly sketch: DDSketchState;
      readonly distinct: Uint8Array;
    }
  | { readonly kind: 'categorical'; readonly frequent: FrequentState; readonly distinct: Uint8Array }
  | { readonly kind: 'embedding'; readonly embedding: EmbeddingStatsState };

export function newColumnStats(kind: ColumnStatsKind, dim = 0): ColumnStatsState {
  switch (kind) {
    case 'numeric':
      return { kind, moments: newMoments(), sketch: newDDSketch(), distinct: hllNew() };
    case 'categorical':
      return { kind, frequent: newFrequent(), distinct: hllNew() };
    case 'embedding':
      return { kind, embedding: newEmbeddingStats(dim) };
  }
}

/** Adds one value (null, undefined and NaN are nulls). */
export function addValue(s: ColumnStatsState, v: unknown): void {
  switch (s.kind) {
    case 'numeric': {
      const x = typeof v === 'bigint' ? Number(v) : (v as number | null | undefined);
      addMoment(s.moments, x);
      if (x !== null && x !== undefined && Number.isFinite(x)) {
        addToSketch(s.sketch, x);
        hllAdd(s.distinct, hashNumber(x));
      }
      return;
    }
    case 'categorical': {
      if (v === null || v === undefined) return addFrequent(s.frequent, null);
      const text = categoryText(v);
      addFrequent(s.frequent, text);
      hllAdd(s.distinct, hashValue(text));
      return;
    }
    case 'embedding':
      return addEmbedding(s.embedding, v as ArrayLike<number> | null | undefined);
  }
}

/** The text a categorical value counts as (strings as they are, other values as JSON). */
function categoryText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

/** Adds a batch of values (a typed array, an array, or an Arrow vector's `toArray()`). */
export function addValues(s: ColumnStatsState, values: Iterable<unknown>): void {
  for (const v of values) addValue(s, v);
}

/** Folds `b` into `a` (same kind). */
export function mergeColumnStats(a: ColumnStatsState, b: ColumnStatsState): void {
  if (a.kind !== b.kind) throw new RangeError(`cannot merge ${a.kind} statistics with ${b.kind} statistics`);
  if (a.kind === 'numeric' && b.kind === 'numeric') {
    mergeMoments(a.moments, b.moments);
    mergeSketch(a.sketch, b.sketch);
    hllMerge(a.distinct, b.distinct);
  } else if (a.kind === 'categorical' && b.kind === 'categorical') {
    mergeFrequent(a.frequent, b.frequent);
    hllMerge(a.distinct, b.distinct);
  } else if (a.kind === 'embedding' && b.kind === 'embedding') mergeEmbeddingStats(a.embedding, b.embedding);
}

/** Quantiles every summary reports. */
export const SUMMARY_QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

/** What `strata stats` prints and `summarize` returns for a column. */
export interface StatisticsSummary {
  readonly kind: ColumnStatsKind;
  readonly count: number;
  readonly nulls: number;
  /** HLL estimate (numeric and categorical). */
  readonly distinct?: number;
  readonly min?: number | null;
  readonly max?: number | null;
  readonly mean?: number | null;
  readonly stddev?: number | null;
  /** Quantile → value (numeric; for embeddings, of the norms). */
  readonly quantiles?: Readonly<Record<string, number | null>>;
  readonly top?: readonly { readonly value: string; readonly count: number }[];
  /** Embeddings: dimension, mean norm, and the mean vector's norm (0 for centred data, 1 for one direction). */
  readonly dim?: number;
  readonly meanNorm?: number | null;
  readonly meanVectorNorm?: number | null;
}

export function summarize(s: ColumnStatsState, topCount = 10): StatisticsSummary {
  switch (s.kind) {
    case 'numeric': {
      const m = s.moments;
      return {
        kind: s.kind,
        count: m.count,
        nulls: m.nulls,
        distinct: m.count ? hllEstimate(s.distinct) : 0,
        min: m.count ? m.min : null,
        max: m.count ? m.max : null,
        mean: m.count ? m.mean : null,
        stddev: stddev(m),
        quantiles: Object.fromEntries(SUMMARY_QUANTILES.map((q) => [String(q), sketchQuantile(s.sketch, q)])),
      };
    }
    case 'categorical':
      return {
        kind: s.kind,
        count: s.frequent.count,
        nulls: s.frequent.nulls,
        distinct: s.frequent.count ? hllEstimate(s.distinct) : 0,
        top: topK(s.frequent, topCount),
      };
    case 'embedding': {
      const e = s.embedding;
      const mean = meanVector(e);
      return {
        kind: s.kind,
        count: e.count,
        nulls: e.nulls,
        dim: e.dim,
        meanNorm: e.count ? e.norm.mean : null,
        meanVectorNorm: mean ? Math.hypot(...mean) : null,
        quantiles: Object.fromEntries(SUMMARY_QUANTILES.map((q) => [String(q), sketchQuantile(e.normSketch, q)])),
      };
    }
  }
}

/** Column statistics as JSON (stored per run; `columnStatsFromJson` reads them back to merge or compare). */
export type ColumnStatsJson =
  | {
      readonly kind: 'numeric';
      readonly moments: MomentsJson;
      readonly sketch: DDSketchJson;
      readonly distinct: string;
    }
  | {
      readonly kind: 'categorical';
      readonly capacity: number;
      readonly counts: readonly (readonly [string, number])[];
      readonly count: number;
      readonly nulls: number;
      readonly approximate: boolean;
      readonly distinct: string;
    }
  | { readonly kind: 'embedding'; readonly embedding: EmbeddingStatsJson };

const b64 = (r: Uint8Array): string => Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString('base64');
const unb64 = (s: string): Uint8Array => {
  const out = hllNew();
  out.set(Buffer.from(s, 'base64'));
  return out;
};

export function columnStatsToJson(s: ColumnStatsState): ColumnStatsJson {
  switch (s.kind) {
    case 'numeric':
      return {
        kind: s.kind,
        moments: momentsToJson(s.moments),
        sketch: sketchToJson(s.sketch),
        distinct: b64(s.distinct),
      };
    case 'categorical': {
      const f = s.frequent;
      return {
        kind: s.kind,
        capacity: f.capacity,
        counts: [...f.counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
        count: f.count,
        nulls: f.nulls,
        approximate: f.approximate,
        distinct: b64(s.distinct),
      };
    }
    case 'embedding':
      return { kind: s.kind, embedding: embeddingStatsToJson(s.embedding) };
  }
}

export function columnStatsFromJson(j: ColumnStatsJson): ColumnStatsState {
  switch (j.kind) {
    case 'numeric':
      return {
        kind: j.kind,
        moments: momentsFromJson(j.moments),
        sketch: sketchFromJson(j.sketch),
        distinct: unb64(j.distinct),
      };
    case 'categorical': {
      const frequent = newFrequent(j.capacity);
      for (const [k, v] of j.counts) frequent.counts.set(k, v);
      frequent.count = j.count;
      frequent.nulls = j.nulls;
      frequent.approximate = j.approximate;
      return { kind: j.kind, frequent, distinct: unb64(j.distinct) };
    }
    case 'embedding':
      return { kind: j.kind, embedding: embeddingStatsFromJson(j.embedding) };
  }
}
