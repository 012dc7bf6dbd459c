import { StrataError } from '../../errors.js';

/** Similarity metrics for vector search. */
export const METRICS = ['cosine', 'l2', 'dot'] as const;
export type Metric = (typeof METRICS)[number];

/**
 * One search result. `score` is the cosine similarity or dot product (higher is better) or the
 * Euclidean distance for 'l2' (lower is better); results are always sorted best first, ties by row.
 */
export interface SearchHit {
  readonly row: number;
  readonly score: number;
}

/**
 * Rows to consider: a Uint8Array mask (non-zero = keep, one byte per row) or a list of row
 * indices (any other array type).
 */
export type RowFilter = Uint8Array | Uint32Array | Int32Array | readonly number[];

export function checkMetric(metric: string): Metric {
  if (!(METRICS as readonly string[]).includes(metric)) {
    throw new StrataError('INVALID_ARGUMENT', `unknown metric '${metric}'`, {
      field: 'metric',
      hint: `use one of ${METRICS.join(', ')}`,
    });
  }
  return metric as Metric;
}

export function checkK(k: number): number {
  if (!Number.isInteger(k) || k < 1) {
    throw new StrataError('INVALID_ARGUMENT', `k must be a positive integer, got ${k}`, { field: 'k' });
  }
  return k;
}

export function checkQuery(query: ArrayLike<number>, dim: number): Float32Array {
  if (query.length !== dim) {
    throw new StrataError('INVALID_ARGUMENT', `query has ${query.length} values, the vectors have ${dim}`, {
      field: 'query',
      hint: `pass a ${dim}-d query vector`,
    });
  }
  return query instanceof Float32Array ? query : Float32Array.from(query);
}

/**
 * Exact float64 key of one row, summed in natural order: cosine similarity, dot product, or minus
 * the squared L2 distance. `qq` is the query's squared norm (cosine).
 */
export function exactKey(v: Float32Array, o: number, q: Float32Array, dim: number, metric: Metric, qq: number): number {
  if (metric === 'l2') {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const d = v[o + j] - q[j];
      s += d * d;
    }
    return -s;
  }
  let dot = 0;
  let vv = 0;
  for (let j = 0; j < dim; j++) {
    const x = v[o + j];
    dot += x * q[j];
    vv += x * x;
  }
  if (metric === 'dot') return dot;
  return vv * qq > 0 ? dot / Math.sqrt(vv * qq) : 0;
}

/** Euclidean norms of n × dim row-major vectors. */
export function vectorNorms(vectors: Float32Array, dim: number): Float32Array {
  const n = Math.floor(vectors.length / dim);
  const norms = new Float32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += vectors[o + j] * vectors[o + j];
    norms[i] = Math.sqrt(s);
  }
  return norms;
}

/**
 * Keeps the k best (row, key) pairs, higher key = better, ties broken by the lower row.
 * A binary min-heap over typed arrays: push is O(1) when the pair does not make the cut.
 */
export class TopK {
  private readonly keys: Float64Array;
  private readonly rows: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.keys = new Float64Array(k);
    this.rows = new Int32Array(k);
  }

  /** The key a new pair must beat once full (-Infinity until then). */
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.keys[0];
  }

  private worse(ka: number, ra: number, kb: number, rb: number): boolean {
    return ka < kb || (ka === kb && ra > rb);
  }

  push(row: number, key: number): void {
    const { keys, rows } = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(key, row, keys[p], rows[p])) break;
        keys[i] = keys[p];
        rows[i] = rows[p];
        i = p;
      }
      keys[i] = key;
      rows[i] = row;
      return;
    }
    if (!this.worse(keys[0], rows[0], key, row)) return;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.worse(keys[r], rows[r], keys[l], rows[l]) ? r : l;
      if (!this.worse(keys[c], rows[c], key, row)) break;
      keys[i] = keys[c];
      rows[i] = rows[c];
      i = c;
    }
    keys[i] = key;
    rows[i] = row;
  }

  /** Pairs best first; `toScore` maps a key to the reported score. */
  sorted(toScore: (key: number) => number = (x) => x): SearchHit[] {
    const out: { row: number; key: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ row: this.rows[i], key: this.keys[i] });
    out.sort((a, b) => b.key - a.key || a.row - b.row);
    return out.map((p) => ({ row: p.row, score: toScore(p.key) }));
  }
}
