import { StrataError, throwIfAborted } from '../../errors.js';
import { keyToScore } from './exact.js';
import { checkK, checkMetric, checkQuery, TopK, type Metric, type RowFilter, type SearchHit } from './metrics.js';
import { MaxDistHeap, MinDistHeap, rowFilterMask, SplitMix } from './hnsw-util.js';
import { readHnsw, writeHnsw, type HnswState } from './hnsw-format.js';
import { SimdVectorStore, type DistanceCode } from './simd.js';

export interface HnswOptions {
  /** Default 'cosine' (vectors are stored normalized). */
  readonly metric?: Metric;
  /** Links per node on upper layers; layer 0 keeps 2M. Default 16. */
  readonly M?: number;
  /** Candidate list size while inserting. Default 200. */
  readonly efConstruction?: number;
  /** Default candidate list size for search (raised to k when smaller). Default 64. */
  readonly efSearch?: number;
  /** Seed of the level generator; same seed + same vectors → same graph. Default 42. */
  readonly seed?: number;
}

export interface BuildProgress {
  readonly done: number;
  readonly total: number;
}

export interface HnswBuildOptions extends HnswOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: BuildProgress) => void;
}

const MAX_LEVEL = 16;

/**
 * Hierarchical navigable small world graph (Malkov & Yashunin 2018) over float32 vectors, with
 * typed-array adjacency, the neighbour-selection heuristic, seeded levels and a binary format
 * (`serialize` / `HnswIndex.deserialize`). Rows are numbered in insertion order from 0.
 */
export class HnswIndex {
  private s: HnswState;
  private readonly rng: SplitMix;
  private visited: Uint32Array;
  private epoch = 0;
  private readonly cand = new MinDistHeap();
  private readonly res = new MaxDistHeap();
  private readonly sel: Int32Array;
  private readonly selD: Float64Array;
  private readonly mL: number;
  private scratchIds = new Int32Array(256);
  private scratchD = new Float64Array(256);

  private readonly store: SimdVectorStore;

  private constructor(state: HnswState, vectors?: Float32Array) {
    this.s = state;
    const code: DistanceCode = state.metric === 'cosine' ? 0 : state.metric === 'l2' ? 1 : 2;
    this.store = new SimdVectorStore(state.dim, code, Math.max(1, state.capacity));
    if (vectors) for (let i = 0; i < state.count; i++) this.store.set(i, vectors, i * state.dim);
    this.rng = new SplitMix(state.rngState);
    this.visited = new Uint32Array(state.capacity);
    this.sel = new Int32Array(state.M0 + 1);
    this.selD = new Float64Array(state.M0 + 1);
    this.mL = 1 / Math.log(Math.max(2, state.M));
  }

  /** An empty index; add vectors with `add`. */
  static create(dim: number, options: HnswOptions = {}): HnswIndex {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new StrataError('INVALID_ARGUMENT', `dim must be a positive integer, got ${dim}`, { field: 'dim' });
    }
    const M = options.M ?? 16;
    if (!Number.isInteger(M) || M < 2 || M > 256) {
      throw new StrataError('INVALID_ARGUMENT', `M must be an integer in 2..256, got ${M}`, { field: 'M' });
    }
    const efConstruction = Math.max(options.efConstruction ?? 200, M);
    const capacity = 1024;
    return new HnswIndex({
      metric: checkMetric(options.metric ?? 'cosine'), dim, M, M0: 2 * M, efConstruction,
      efSearch: options.efSearch ?? 64, count: 0, capacity, maxLevel: -1, entry: -1,
      seed: (options.seed ?? 42) >>> 0, rngState: (options.seed ?? 42) >>> 0,
      levels: new Uint8Array(capacity),
      links0: new Int32Array(capacity * (2 * M + 1)), upper: [],
    });
  }

  /** Builds over n × dim row-major vectors, yielding to the event loop between slices. */
  static async build(vectors: Float32Array, dim: number, options: HnswBuildOptions = {}): Promise<HnswIndex> {
    const index = HnswIndex.create(dim, options);
    const n = Math.floor(vectors.length / dim);
    if (n * dim !== vectors.length) {
      throw new StrataError('INVALID_ARGUMENT', `vectors length ${vectors.length} is not a multiple of dim ${dim}`, { field: 'dim' });
    }
    index.reserve(n);
    for (let i = 0; i < n; i++) {
      index.add(vectors.subarray(i * dim, (i + 1) * dim));
      if ((i & 1023) === 1023) {
        throwIfAborted(options.signal, 'HNSW build');
        options.onProgress?.({ done: i + 1, total: n });
        await new Promise((r) => setImmediate(r));
      }
    }
    options.onProgress?.({ done: n, total: n });
    return index;
  }

  get size(): number {
    return this.s.count;
  }
  get dim(): number {
    return this.s.dim;
  }
  get metric(): Metric {
    return this.s.metric;
  }
  get options(): Required<HnswOptions> {
    const s = this.s;
    return { metric: s.metric, M: s.M, efConstruction: s.efConstruction, efSearch: s.efSearch, seed: s.seed };
  }

  /** Grows storage to hold at least `n` vectors. */
  reserve(n: number): void {
    const s = this.s;
    if (n <= s.capacity) return;
    const cap = Math.max(n, s.capacity * 2);
    this.store.reserve(cap);
    const lv = new Uint8Array(cap);
    lv.set(s.levels.subarray(0, s.count));
    const l0 = new Int32Array(cap * (s.M0 + 1));
    l0.set(s.links0.subarray(0, s.count * (s.M0 + 1)));
    const vis = new Uint32Array(cap);
    vis.set(this.visited);
    Object.assign(s, { levels: lv, links0: l0, capacity: cap });
    this.visited = vis;
  }

  /** Distance between the vector at byte offset `qo` in the store and row `id` (lower is closer). */
  private dist(qo: number, id: number): number {
    return this.store.dist(qo, id);
  }

  /** Array holding the neighbour list of `id` at `level` (see linksAt for the offset). */
  private linksArr(id: number, level: number): Int32Array {
    return level === 0 ? this.s.links0 : (this.s.upper[id] as Int32Array);
  }

  /** Offset of the count slot of `id`'s list at `level`, followed by the ids. */
  private linksAt(id: number, level: number): number {
    return level === 0 ? id * (this.s.M0 + 1) : (level - 1) * (this.s.M + 1);
  }

  private greedy(qo: number, ep: number, level: number): number {
    const store = this.store;
    const ids = store.ids;
    let cur = ep;
    let best = this.dist(qo, cur);
    for (let changed = true; changed;) {
      changed = false;
      const arr = this.linksArr(cur, level);
      const at = this.linksAt(cur, level);
      const cnt = arr[at];
      for (let t = 0; t < cnt; t++) ids[t] = arr[at + 1 + t];
      store.distMany(qo, cnt);
      let next = cur;
      for (let t = 0; t < cnt; t++) {
        const d = store.distAt(t);
        if (d < best) { best = d; next = ids[t]; changed = true; }
      }
      cur = next;
    }
    return cur;
  }

  /** Best-first search of one layer; results end up in this.res (max-heap of size <= ef). */
  private searchLayer(qo: number, ep: number, ef: number, level: number, mask?: Uint8Array): void {
    const { cand, res } = this;
    cand.clear();
    res.clear();
    const vis = this.visited;
    if (++this.epoch === 0xffffffff) { vis.fill(0); this.epoch = 1; }
    const epoch = this.epoch;
    const store = this.store;
    const ids = store.ids;
    const d0 = this.dist(qo, ep);
    vis[ep] = epoch;
    cand.push(ep, d0);
    if (!mask || mask[ep]) res.push(ep, d0);
    while (cand.size > 0) {
      const cd = cand.topDist();
      if (res.size >= ef && cd > res.topDist()) break;
      const c = cand.pop();
      const arr = this.linksArr(c, level);
      const at = this.linksAt(c, level);
      const cnt = arr[at];
      let m = 0;
      for (let t = 1; t <= cnt; t++) {
        const nb = arr[at + t];
        if (vis[nb] === epoch) continue;
        vis[nb] = epoch;
        ids[m++] = nb;
      }
      if (m === 0) continue;
      store.distMany(qo, m);
      for (let t = 0; t < m; t++) {
        const nb = ids[t];
        const d = store.distAt(t);
        if (res.size < ef || d < res.topDist()) {
          cand.push(nb, d);
          if (!mask || mask[nb]) {
            res.push(nb, d);
            if (res.size > ef) res.pop();
          }
        }
      }
    }
  }

  /**
   * Heuristic neighbour selection from this.res (consumed): keeps a candidate only if it is closer
   * to the base than to every already kept one. Writes ids to this.sel, returns how many.
   */
  private selectNeighbors(max: number): number {
    const { res, sel, selD } = this;
    const n = res.size;
    if (this.scratchIds.length < n) {
      this.scratchIds = new Int32Array(2 * n);
      this.scratchD = new Float64Array(2 * n);
    }
    const ids = this.scratchIds;
    const ds = this.scratchD;
    for (let i = n - 1; i >= 0; i--) { ds[i] = res.topDist(); ids[i] = res.pop(); } // ascending
    let kept = 0;
    const store = this.store;
    const keptIds = store.kept; // the kernel reads kept ids from here
    for (let i = 0; i < n && kept < max; i++) {
      if (kept > 0 && store.anyCloser(ids[i], kept, ds[i])) continue;
      keptIds[kept] = ids[i];
      sel[kept] = ids[i];
      selD[kept] = ds[i];
      kept++;
    }
    return kept;
  }

  /** Adds one vector; returns its row number. */
  add(vector: ArrayLike<number>): number {
    const s = this.s;
    checkQuery(vector, s.dim);
    this.reserve(s.count + 1);
    const id = s.count;
    this.store.set(id, vector);
    const o = this.store.rowOffset(id);
    const level = Math.min(MAX_LEVEL, Math.floor(-Math.log(1 - this.rng.next()) * this.mL));
    s.levels[id] = level;
    s.upper[id] = level > 0 ? new Int32Array(level * (s.M + 1)) : undefined;
    s.count++;
    if (s.entry < 0) {
      s.entry = id;
      s.maxLevel = level;
      return id;
    }
    let ep = s.entry;
    for (let l = s.maxLevel; l > level; l--) ep = this.greedy(o, ep, l);
    for (let l = Math.min(level, s.maxLevel); l >= 0; l--) {
      this.searchLayer(o, ep, s.efConstruction, l);
      ep = this.res.ids[this.res.bestIndex()];
      const kept = this.selectNeighbors(s.M);
      const arr = this.linksArr(id, l);
      const at = this.linksAt(id, l);
      arr[at] = kept;
      for (let t = 0; t < kept; t++) arr[at + 1 + t] = this.sel[t];
      const neighbours = Array.from(this.sel.subarray(0, kept));
      for (const nb of neighbours) this.connect(nb, id, l);
    }
    if (level > s.maxLevel) {
      s.maxLevel = level;
      s.entry = id;
    }
    return id;
  }

  /** Adds link nb → id at level l, pruning nb's list with the heuristic when full. */
  private connect(nb: number, id: number, l: number): void {
    const max = l === 0 ? this.s.M0 : this.s.M;
    const arr = this.linksArr(nb, l);
    const at = this.linksAt(nb, l);
    const cnt = arr[at];
    if (cnt < max) {
      arr[at + 1 + cnt] = id;
      arr[at] = cnt + 1;
      return;
    }
    const res = this.res;
    const no = this.store.rowOffset(nb);
    res.clear();
    res.push(id, this.dist(no, id));
    for (let t = 1; t <= cnt; t++) res.push(arr[at + t], this.dist(no, arr[at + t]));
    const kept = this.selectNeighbors(max);
    arr[at] = kept;
    for (let t = 0; t < kept; t++) arr[at + 1 + t] = this.sel[t];
  }

  /**
   * Approximate top-k, best first (same scores as exact search). `efSearch` trades speed for recall;
   * a `filter` restricts results (the graph is still traversed through filtered-out rows).
   */
  search(query: ArrayLike<number>, options: { readonly k: number; readonly efSearch?: number; readonly filter?: RowFilter }): SearchHit[] {
    const s = this.s;
    const k = checkK(options.k);
    const q = checkQuery(query, s.dim);
    if (s.count === 0) return [];
    this.store.setQuery(q);
    const qo = this.store.queryOffset;
    const mask = options.filter === undefined ? undefined : rowFilterMask(options.filter, s.count);
    let ep = s.entry;
    for (let l = s.maxLevel; l > 0; l--) ep = this.greedy(qo, ep, l);
    this.searchLayer(qo, ep, Math.max(k, options.efSearch ?? s.efSearch), 0, mask);
    const res = this.res;
    while (res.size > k) res.pop();
    // rescore the k winners in float64 so scores match exact search
    const top = new TopK(k);
    while (res.size > 0) {
      const row = res.pop();
      top.push(row, exactKey(s.metric, q, this.store.row(row), this.qNorm(q)));
    }
    return top.sorted(keyToScore(s.metric));
  }

  /**
   * Binary form (little-endian) with the graph and, unless includeVectors is false, the stored
   * vectors (normalized for cosine). Without vectors, pass them to deserialize.
   */
  serialize(options: { readonly includeVectors?: boolean } = {}): Uint8Array {
    const vectors = (options.includeVectors ?? true) ? this.store.export(this.s.count) : undefined;
    return writeHnsw({ ...this.s, rngState: this.rng.state }, vectors);
  }

  private qNorm(q: Float32Array): number {
    if (this.s.metric !== 'cosine') return 1;
    let nn = 0;
    for (let j = 0; j < q.length; j++) nn += q[j] * q[j];
    return Math.sqrt(nn);
  }

  /** Reads `serialize()` output; throws CORRUPT on damaged bytes. */
  static deserialize(bytes: Uint8Array, options: { readonly vectors?: Float32Array } = {}): HnswIndex {
    const { state, vectors } = readHnsw(bytes, options.vectors);
    return new HnswIndex(state, vectors);
  }
}

/** Float64 TopK key of a stored row (normalized for cosine): cos, dot, or -squared L2. */
function exactKey(metric: Metric, q: Float32Array, row: Float32Array, qNorm: number): number {
  let s = 0;
  if (metric === 'l2') {
    for (let j = 0; j < q.length; j++) { const d = q[j] - row[j]; s += d * d; }
    return -s;
  }
  for (let j = 0; j < q.length; j++) s += q[j] * row[j];
  return metric === 'cosine' ? (qNorm > 0 ? s / qNorm : 0) : s;
}
