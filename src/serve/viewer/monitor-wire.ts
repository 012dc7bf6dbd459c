/**
 * The monitoring page's JSON (GET /api/monitor) as both sides see it: the server
 * (src/serve/monitor-page.ts) returns it and the page (src/serve/viewer/browser/monitor.ts) draws it.
 * No runtime code and only type imports of dependency-free modules: compiled for Node and for the browser.
 */
import type { ViewFreshness } from '../../online/freshness-types.js';

/** One view's freshness: the rows `viewFreshness` computes (src/online/freshness-types.ts), as JSON. */
export type MonitorView = ViewFreshness;

/**
 * A histogram of one feature, current and reference side by side as fractions of each side's
 * non-null values. Numbers and embeddings (their norms): `edges` has one more entry than each
 * fraction list; categories: `labels` names each bin (the last may be `(other)`).
 */
export interface MonitorHistogram {
  readonly edges?: readonly number[];
  readonly labels?: readonly string[];
  readonly current: readonly number[];
  readonly reference: readonly number[] | null;
}

export interface MonitorFeature {
  readonly view: string;
  readonly feature: string;
  /** `numeric`, `categorical` or `embedding` (histogram of the vector norms). */
  readonly kind: string;
  readonly count: number;
  readonly referenceCount: number | null;
  readonly referenceName: string | null;
  readonly histogram: MonitorHistogram;
  readonly drift: {
    readonly psi: number | null;
    readonly jsDivergence: number | null;
    readonly meanCosineShift?: number | null;
    readonly mmd2?: number | null;
  } | null;
  /** Limits per score (see src/online/monitor.ts). */
  readonly thresholds: { readonly psi: number; readonly js: number; readonly meanShift: number; readonly mmd2: number };
  /** Any score above its limit. */
  readonly drifted: boolean;
}

/** GET /api/monitor */
export interface MonitorResponse {
  readonly nowMs: number;
  readonly views: readonly MonitorView[];
  readonly features: readonly MonitorFeature[];
}
