import { StrataError } from '../../errors.js';
import { scanScratch } from './simd.js';
import {
  checkK,
  checkMetric,
  checkQuery,
  exactKey,
  TopK,
  vectorNorms,
  type Metric,
  type RowFilter,
  type SearchHit,
} from './metrics.js';

export { METRICS, TopK, vectorNorms, type Metric, type RowFilter, type SearchHit } from './metrics.js';

export interface ExactSearchOptions {
  readonly k: number;
  /** Default 'cosine'. */
  readonly metric?: Metric;
  /** Rows to consider (mask or index list, local to `vectors`). Default all. */
  readonly filter?: RowFilter;
  /** Precomputed vectorNorms(vectors, dim), used by 'cosine' and 'dot'. Computed when absent. */
  readonly norms?: Float32Array;
}

export interface ScanOptions {
  readonly metric: Metric;
  /** Added to local row numbers before they enter `top` (for scanning chunk after chunk). Default 0. */
  readonly rowOffset?: number;
  /** Norms of this chunk's rows (speeds up 'cosine' and 'dot'). Computed when absent. */
  readonly norms?: Float32Array;
  readonly filter?: RowFilter;
}

/** Rows per block copied into WebAssembly memory (~1 MiB, stays in cache). */
const BLOCK_BYTES = 1 << 20;

/**
 * Scans n × dim vectors into `top` (keys: cosine similarity, dot product, or -squared L2).
 * Rows are copied block by block into WebAssembly memory and scored with float32 SIMD kernels; any
 * row whose float32 score could reach the current top-k (within a proven rounding bound) is
 * rescored in float64, so keys and order are those of an exact float64 scan. No allocation per row.
 * Call once per chunk with `rowOffset`, then `top.sorted(keyToScore(metric))`.
 */
export function scanExact(
  vectors: Float32Array,
  dim: number,
  query: Float32Array,
  top: TopK,
  options: ScanOptions,
): void {
  const n = Math.floor(vectors.length / dim);
  const rowBase = options.rowOffset ?? 0;
  const metric = options.metric;
  const l2 = metric === 'l2';
  const cosine = metric === 'cosine';
  const norms = options.norms;
  if (norms !== undefined && norms.length < n) {
    throw new StrataError('INVALID_ARGUMENT', `norms has ${norms.length} entries for ${n} rows`, { field: 'norms' });
  }
  let qq = 0;
  for (let j = 0; j < dim; j++) qq += query[j] * query[j];
  const qn = Math.sqrt(qq);
  const stride = Math.ceil(dim / 8) * 8;
  const rowBytes = stride * 4;
  const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));
  const { kernels: k, f32 } = scanScratch(rowBytes * (blockRows + 1));
  f32.set(query, 0);
  f32.fill(0, dim, stride);
  // |float32 sum - exact sum| <= eps * sum |terms| (products and adds both rounded; generous).
  const eps = (dim + 16) * 2 ** -23;

  /** Scores row i, whose copy sits in block slot `slot`. */
  const score = (i: number, slot: number): void => {
    const off = (slot + 1) * rowBytes;
    let approx: number;
    let slack: number;
    if (l2) {
      const d2 = k.l2sq(0, off, stride);
      approx = -d2;
      slack = eps * d2 + 1e-30;
    } else {
      const dot = k.dot(0, off, stride);
      const rn = norms !== undefined ? norms[i] : Math.sqrt(Math.max(0, k.dot(off, off, stride)));
      if (cosine) {
        const den = qn * rn;
        approx = den > 0 ? dot / den : 0;
        slack = 3 * eps + 1e-30;
      } else {
        approx = dot;
        slack = 1.5 * eps * qn * rn + 1e-30; // Cauchy-Schwarz: sum |q_j v_j| <= |q| |v|
      }
    }
    if (approx + slack < top.threshold) return;
    const key = exactKey(vectors, i * dim, query, dim, metric, qq);
    if (key >= top.threshold) top.push(rowBase + i, key);
  };
  /** Copies row i into block slot `slot` (zero padding to the stride). */
  const copy = (i: number, slot: number): void => {
    const at = (slot + 1) * stride;
    f32.set(vectors.subarray(i * dim, (i + 1) * dim), at);
    if (stride !== dim) f32.fill(0, at + dim, at + stride);
  };

  const f = options.filter;
  if (f !== undefined && !(f instanceof Uint8Array)) {
    for (let t0 = 0; t0 < f.length; t0 += blockRows) {
      const cnt = Math.min(blockRows, f.length - t0);
      for (let r = 0; r < cnt; r++) {
        const i = f[t0 + r];
        if (!(i >= 0 && i < n && Number.isInteger(i))) {
          throw new StrataError('INVALID_ARGUMENT', `filter row ${i} is outside 0..${n - 1}`, {
            field: 'filter',
            row: i,
          });
        }
        copy(i, r);
      }
      for (let r = 0; r < cnt; r++) score(f[t0 + r], r);
    }
    return;
  }
  if (f !== undefined && f.length !== n) {
    throw new StrataError('INVALID_ARGUMENT', `filter mask has ${f.length} entries for ${n} rows`, { field: 'filter' });
  }
  for (let b0 = 0; b0 < n; b0 += blockRows) {
    const cnt = Math.min(blockRows, n - b0);
    if (stride === dim) f32.set(vectors.subarray(b0 * dim, (b0 + cnt) * dim), stride);
    else for (let r = 0; r < cnt; r++) copy(b0 + r, r);
    if (f === undefined) for (let r = 0; r < cnt; r++) score(b0 + r, r);
    else for (let r = 0; r < cnt; r++) if (f[b0 + r] !== 0) score(b0 + r, r);
  }
}

/** Maps a TopK key back to the reported score (L2: the distance). */
export function keyToScore(metric: Metric): (key: number) => number {
  return metric === 'l2' ? (k) => Math.sqrt(Math.max(0, -k)) : (k) => k;
}

/** Exact top-k over n × dim row-major vectors, best first. */
export function searchExact(
  vectors: Float32Array,
  dim: number,
  query: ArrayLike<number>,
  options: ExactSearchOptions,
): SearchHit[] {
  if (!Number.isInteger(dim) || dim < 1 || vectors.length % dim !== 0) {
    throw new StrataError('INVALID_ARGUMENT', `vectors length ${vectors.length} is not a multiple of dim ${dim}`, {
      field: 'dim',
    });
  }
  const metric = checkMetric(options.metric ?? 'cosine');
  const top = new TopK(checkK(options.k));
  scanExact(vectors, dim, checkQuery(query, dim), top, { metric, norms: options.norms, filter: options.filter });
  return top.sorted(keyToScore(metric));
}

/** Vectors plus their norms, for repeated exact queries. */
export class ExactIndex {
  readonly norms: Float32Array | undefined;
  constructor(
    readonly vectors: Float32Array,
    readonly dim: number,
    readonly metric: Metric = 'cosine',
  ) {
    checkMetric(metric);
    this.norms = metric === 'l2' ? undefined : vectorNorms(vectors, dim);
  }
  get size(): number {
    return this.vectors.length / this.dim;
  }
  search(query: ArrayLike<number>, options: { readonly k: number; readonly filter?: RowFilter }): SearchHit[] {
    return searchExact(this.vectors, this.dim, query, { ...options, metric: this.metric, norms: this.norms });
  }
}
