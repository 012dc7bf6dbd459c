import { StrataError } from '../../errors.js';
import {
  checkK, checkMetric, checkQuery, TopK, vectorNorms,
  type Metric, type RowFilter, type SearchHit,
} from './metrics.js';

export { METRICS, TopK, vectorNorms, type Metric, type RowFilter, type SearchHit } from './metrics.js';

export interface ExactSearchOptions {
  readonly k: number;
  /** Default 'cosine'. */
  readonly metric?: Metric;
  /** Rows to consider (mask or index list, local to `vectors`). Default all. */
  readonly filter?: RowFilter;
  /** Precomputed vectorNorms(vectors, dim), used by 'cosine'. Computed when absent. */
  readonly norms?: Float32Array;
}

export interface ScanOptions {
  readonly metric: Metric;
  /** Added to local row numbers before they enter `top` (for scanning chunk after chunk). Default 0. */
  readonly rowOffset?: number;
  /** Norms of this chunk's rows ('cosine'). Computed when absent. */
  readonly norms?: Float32Array;
  readonly filter?: RowFilter;
}

/** Key of one row: higher is better (cosine, dot) or minus the squared distance (l2). */
function rowKey(v: Float32Array, o: number, q: Float32Array, dim: number, l2: boolean): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  const end = dim - 3;
  if (l2) {
    for (; j < end; j += 4) {
      const d0 = v[o + j] - q[j], d1 = v[o + j + 1] - q[j + 1];
      const d2 = v[o + j + 2] - q[j + 2], d3 = v[o + j + 3] - q[j + 3];
      s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
    }
    for (; j < dim; j++) { const d = v[o + j] - q[j]; s0 += d * d; }
    return -(s0 + s1 + s2 + s3);
  }
  for (; j < end; j += 4) {
    s0 += v[o + j] * q[j]; s1 += v[o + j + 1] * q[j + 1];
    s2 += v[o + j + 2] * q[j + 2]; s3 += v[o + j + 3] * q[j + 3];
  }
  for (; j < dim; j++) s0 += v[o + j] * q[j];
  return s0 + s1 + s2 + s3;
}

/**
 * Scans n × dim vectors into `top` (keys: cosine similarity, dot product, or -squared L2).
 * No allocation per row. Call once per chunk with `rowOffset`, then `top.sorted(keyToScore(metric))`.
 */
export function scanExact(vectors: Float32Array, dim: number, query: Float32Array, top: TopK, options: ScanOptions): void {
  const n = Math.floor(vectors.length / dim);
  const base = options.rowOffset ?? 0;
  const l2 = options.metric === 'l2';
  const cosine = options.metric === 'cosine';
  const norms = cosine ? (options.norms ?? vectorNorms(vectors, dim)) : undefined;
  let qn = 0;
  if (cosine) {
    for (let j = 0; j < dim; j++) qn += query[j] * query[j];
    qn = Math.sqrt(qn);
  }
  const visit = (i: number): void => {
    let key = rowKey(vectors, i * dim, query, dim, l2);
    if (norms !== undefined) {
      const d = qn * norms[i];
      key = d > 0 ? key / d : 0;
    }
    if (key >= top.threshold) top.push(base + i, key);
  };
  const f = options.filter;
  if (f === undefined) {
    for (let i = 0; i < n; i++) visit(i);
  } else if (f instanceof Uint8Array) {
    if (f.length !== n) {
      throw new StrataError('INVALID_ARGUMENT', `filter mask has ${f.length} entries for ${n} rows`, { field: 'filter' });
    }
    for (let i = 0; i < n; i++) if (f[i] !== 0) visit(i);
  } else {
    for (let t = 0; t < f.length; t++) {
      const i = f[t];
      if (!(i >= 0 && i < n && Number.isInteger(i))) {
        throw new StrataError('INVALID_ARGUMENT', `filter row ${i} is outside 0..${n - 1}`, { field: 'filter', row: i });
      }
      visit(i);
    }
  }
}

/** Maps a TopK key back to the reported score (L2: the distance). */
export function keyToScore(metric: Metric): (key: number) => number {
  return metric === 'l2' ? (k) => Math.sqrt(Math.max(0, -k)) : (k) => k;
}

/** Exact top-k over n × dim row-major vectors, best first. */
export function searchExact(vectors: Float32Array, dim: number, query: ArrayLike<number>, options: ExactSearchOptions): SearchHit[] {
  if (!Number.isInteger(dim) || dim < 1 || vectors.length % dim !== 0) {
    throw new StrataError('INVALID_ARGUMENT', `vectors length ${vectors.length} is not a multiple of dim ${dim}`, { field: 'dim' });
  }
  const metric = checkMetric(options.metric ?? 'cosine');
  const top = new TopK(checkK(options.k));
  scanExact(vectors, dim, checkQuery(query, dim), top, { metric, norms: options.norms, filter: options.filter });
  return top.sorted(keyToScore(metric));
}

/** Vectors plus their norms, for repeated exact queries. */
export class ExactIndex {
  readonly norms: Float32Array;
  constructor(readonly vectors: Float32Array, readonly dim: number, readonly metric: Metric = 'cosine') {
    checkMetric(metric);
    this.norms = metric === 'cosine' ? vectorNorms(vectors, dim) : new Float32Array(0);
  }
  get size(): number {
    return this.vectors.length / this.dim;
  }
  search(query: ArrayLike<number>, options: { readonly k: number; readonly filter?: RowFilter }): SearchHit[] {
    return searchExact(this.vectors, this.dim, query, { ...options, metric: this.metric, norms: this.norms });
  }
}
