/**
 * "Similar rows" for the viewer and `strata search`: `ds.search` when the dataset has it (ANN
 * index, lineage-aware), else an exact scan over the embedding column's vectors.
 */
import type { Dataset } from '../dataset/dataset.js';
import { searchExact, type Metric, type SearchHit } from '../embed/search/exact.js';
import { StrataError } from '../errors.js';

interface VectorMatrix {
  readonly vectors: Float32Array;
  readonly dim: number;
  /** Physical row of each stored vector. */
  readonly rows: Uint32Array;
}

const matrices = new WeakMap<object, Map<string, Promise<VectorMatrix>>>();

/** The non-null vectors of an embedding column, packed row-major (cached per dataset version). */
export function vectorMatrix(ds: Dataset, column: string, signal?: AbortSignal): Promise<VectorMatrix> {
  const key = `${column}@${ds.version}`;
  let byDs = matrices.get(ds.core);
  if (!byDs) matrices.set(ds.core, (byDs = new Map()));
  let p = byDs.get(key);
  if (!p) {
    p = loadMatrix(ds, column, signal);
    p.catch(() => byDs!.delete(key));
    byDs.set(key, p);
  }
  return p;
}

async function loadMatrix(ds: Dataset, column: string, signal?: AbortSignal): Promise<VectorMatrix> {
  const spec = ds.core.columnManifest(column);
  if (spec.htype !== 'embedding' && spec.htype !== 'generic') {
    throw new StrataError('INVALID_ARGUMENT', `column ${column} of ${ds.uri} is ${spec.htype}, not an embedding column`, {
      column,
      hint: `embedding columns: ${embeddingColumns(ds).join(', ') || '(none; compute one with strata embed)'}`,
    });
  }
  const all = await ds.core.columnValues(column, signal);
  let dim = Number((spec.meta as Record<string, unknown>).dim) || 0;
  const rows: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const v = all[i];
    if (v && ArrayBuffer.isView(v)) {
      dim ||= (v as Float32Array).length;
      if ((v as Float32Array).length === dim) rows.push(i);
    }
  }
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((r, j) => vectors.set(all[r] as ArrayLike<number>, j * dim));
  return { vectors, dim, rows: Uint32Array.from(rows) };
}

export function embeddingColumns(ds: Dataset): string[] {
  return ds.columns.filter((c) => ds.core.columnManifest(c).htype === 'embedding');
}

export interface SimilarOptions {
  readonly k: number;
  /** Default 'cosine'. */
  readonly metric?: Metric;
  /** Only these physical rows (e.g. a filtered view). */
  readonly within?: Uint32Array;
  /** Leave this physical row out (the query row itself). */
  readonly exclude?: number;
  readonly signal?: AbortSignal;
}

/** Nearest physical rows to `query` in `column`, best first (score: cosine/dot higher is better, l2 lower). */
export async function similarRows(ds: Dataset, column: string, query: ArrayLike<number>, options: SimilarOptions): Promise<SearchHit[]> {
  const m = await vectorMatrix(ds, column, options.signal);
  if (m.rows.length === 0) return [];
  let filter: Uint8Array | undefined;
  if (options.within || options.exclude !== undefined) {
    const keep = new Set(options.within ?? m.rows);
    if (options.exclude !== undefined) keep.delete(options.exclude);
    filter = new Uint8Array(m.rows.length);
    for (let j = 0; j < m.rows.length; j++) filter[j] = keep.has(m.rows[j]) ? 1 : 0;
  }
  const k = Math.min(options.k, m.rows.length);
  const hits = searchExact(m.vectors, m.dim, query, { k, metric: options.metric ?? 'cosine', ...(filter ? { filter } : {}) });
  return hits.map((h) => ({ row: m.rows[h.row], score: h.score }));
}

/** The stored vector of one physical row, or NOT_FOUND when that row has none. */
export async function rowVector(ds: Dataset, column: string, row: number, signal?: AbortSignal): Promise<Float32Array> {
  const [v] = await ds.core.readCells(column, [row], signal);
  if (!v || !ArrayBuffer.isView(v)) {
    throw new StrataError('NOT_FOUND', `row ${row} of ${ds.uri} has no vector in column ${column}`, {
      row,
      column,
      hint: 'compute it with strata embed, or pick another row',
    });
  }
  return Float32Array.from(v as unknown as ArrayLike<number>);
}
