import { MaxDistHeap, MinDistHeap, SplitMix } from './hnsw-util.js';
import type { HnswState } from './hnsw-format.js';
import { SimdVectorStore, type DistanceCode, type StoreSharing } from './vector-store.js';

const MAX_LEVEL = 16;

/** The level of a new node: floor(-ln(U) · mL), U uniform from the seeded generator. */
export function drawLevel(rng: SplitMix, M: number): number {
  return Math.min(MAX_LEVEL, Math.floor(-Math.log(1 - rng.next()) / Math.log(Math.max(2, M))));
}

/** Several threads linking nodes into one graph (parallel build); see hnsw-parallel.ts. */
export interface GraphSharing extends StoreSharing {
  /** One spin lock per node guarding its neighbour lists, plus one at [count] for the entry point. */
  readonly locks: Int32Array;
  /** [entry point, max level], shared. */
  readonly top: Int32Array;
}

/**
 * The HNSW graph algorithms (Malkov & Yashunin 2018): layered greedy descent, best-first layer
 * search, heuristic neighbour selection and pruning. Adjacency is typed arrays (HnswState); vectors
 * and distance kernels live in a SimdVectorStore. HnswIndex (hnsw.ts) is the public face.
 */
export class HnswGraph {
  readonly rng: SplitMix;
  readonly store: SimdVectorStore;
  /** After searchLayer: the ef best (max-heap, farthest on top). */
  readonly res = new MaxDistHeap();
  private readonly cand = new MinDistHeap();
  private visited: Uint32Array;
  private epoch = 0;
  private readonly sel: Int32Array;
  private readonly selD: Float64Array;
  private scratchIds = new Int32Array(256);
  private scratchD = new Float64Array(256);

  private sharing: GraphSharing | undefined;

  constructor(
    readonly s: HnswState,
    vectors?: Float32Array,
    sharing?: GraphSharing,
  ) {
    const code: DistanceCode = s.metric === 'cosine' ? 0 : s.metric === 'l2' ? 1 : 2;
    this.store = new SimdVectorStore(s.dim, code, Math.max(1, s.capacity), sharing);
    this.sharing = sharing;
    if (vectors) for (let i = 0; i < s.count; i++) this.store.set(i, vectors, i * s.dim);
    this.rng = new SplitMix(s.rngState);
    this.visited = new Uint32Array(s.capacity);
    this.sel = new Int32Array(s.M0 + 1);
    this.selD = new Float64Array(s.M0 + 1);
  }

  /** Ends parallel mode: copies the shared entry point back into the state; later inserts are serial. */
  detach(): void {
    if (!this.sharing) return;
    this.s.entry = this.sharing.top[0];
    this.s.maxLevel = this.sharing.top[1];
    this.sharing = undefined;
  }

  /** Futex-style mutex (0 free, 1 locked, 2 locked with waiters): no syscall when uncontended. */
  private lock(i: number): void {
    const l = this.sharing?.locks;
    if (!l) return;
    let c = Atomics.compareExchange(l, i, 0, 1);
    if (c === 0) return;
    do {
      if (c === 2 || Atomics.compareExchange(l, i, 1, 2) !== 0) Atomics.wait(l, i, 2);
    } while ((c = Atomics.compareExchange(l, i, 0, 2)) !== 0);
  }

  private unlock(i: number): void {
    const l = this.sharing?.locks;
    if (!l) return;
    if (Atomics.sub(l, i, 1) !== 1) {
      Atomics.store(l, i, 0);
      Atomics.notify(l, i, 1);
    }
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

  greedy(qo: number, ep: number, level: number): number {
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
        if (d < best) {
          best = d;
          next = ids[t];
          changed = true;
        }
      }
      cur = next;
    }
    return cur;
  }

  /** Best-first search of one layer; results end up in this.res (max-heap of size <= ef). */
  searchLayer(qo: number, ep: number, ef: number, level: number, mask?: Uint8Array): void {
    const { cand, res } = this;
    cand.clear();
    res.clear();
    const vis = this.visited;
    if (++this.epoch === 0xffffffff) {
      vis.fill(0);
      this.epoch = 1;
    }
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
    for (let i = n - 1; i >= 0; i--) {
      ds[i] = res.topDist();
      ids[i] = res.pop();
    } // ascending
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

  /** Inserts one vector (dim values, already checked) as the next row; returns its row number. */
  insert(vector: ArrayLike<number>): number {
    const s = this.s;
    this.reserve(s.count + 1);
    const id = s.count;
    this.store.set(id, vector);
    const level = drawLevel(this.rng, s.M);
    s.levels[id] = level;
    s.upper[id] = level > 0 ? new Int32Array(level * (s.M + 1)) : undefined;
    s.count++;
    this.link(id, level);
    return id;
  }

  /**
   * Links row `id` (vector stored, level and upper lists allocated) into the graph. Thread-safe in
   * parallel mode: lists are written under their node's lock (and read without, which is safe for
   * Int32Array), the entry point under the extra lock when `level` raises the top.
   */
  link(id: number, level: number): void {
    const s = this.s;
    const sh = this.sharing;
    const top = sh?.top;
    const globalLock = sh ? sh.locks.length - 1 : -1;
    if (sh) this.lock(globalLock);
    const entry = top ? top[0] : s.entry;
    const maxLevel = top ? top[1] : s.maxLevel;
    const raises = level > maxLevel;
    if (sh && !raises) this.unlock(globalLock);
    if (entry < 0) {
      if (top) {
        top[0] = id;
        top[1] = level;
      } else {
        s.entry = id;
        s.maxLevel = level;
      }
      if (sh) this.unlock(globalLock);
      return;
    }
    const o = this.store.rowOffset(id);
    let ep = entry;
    for (let l = maxLevel; l > level; l--) ep = this.greedy(o, ep, l);
    for (let l = Math.min(level, maxLevel); l >= 0; l--) {
      this.searchLayer(o, ep, s.efConstruction, l);
      ep = this.res.ids[this.res.bestIndex()];
      const kept = this.selectNeighbors(s.M);
      const neighbours = Array.from(this.sel.subarray(0, kept));
      this.lock(id);
      const arr = this.linksArr(id, l);
      const at = this.linksAt(id, l);
      for (let t = 0; t < kept; t++) arr[at + 1 + t] = neighbours[t];
      arr[at] = kept;
      this.unlock(id);
      for (const nb of neighbours) {
        this.lock(nb);
        this.connect(nb, id, l);
        this.unlock(nb);
      }
    }
    if (raises) {
      if (top) {
        Atomics.store(top, 0, id);
        Atomics.store(top, 1, level);
      } else {
        s.entry = id;
        s.maxLevel = level;
      }
      if (sh) this.unlock(globalLock);
    }
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
    for (let t = 0; t < kept; t++) arr[at + 1 + t] = this.sel[t];
    arr[at] = kept;
  }
}
