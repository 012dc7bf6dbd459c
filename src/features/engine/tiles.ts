/**
 * Tiles: partial aggregates per entity per tile interval, columnar (one typed array per state
 * component, one slot per tile). Tile k of width T holds events with kT < ts <= (k+1)T.
 *   count/sum/min/max as-is; mean = (sum, count); stddev = (count, sum, m2 — the sum of squared
 *   deviations from the tile's mean, Welford's update; tiles merge with Chan's formula);
 *   first/last = value + time; last_n = the tile's last n values, oldest first;
 *   count_distinct = exact values (+ their hashes) up to the limit, else HyperLogLog registers.
 * Batch backfill and streaming both fill tiles with `add`, in event-time order, so equal event
 * sequences give bit-identical tiles.
 */
import { hllAdd, hllNew } from '../../stats/index.js';
import type { GroupPlan, ViewPlan } from './plan.js';

/** Exact distinct values (→ their hashes), or HLL registers once past the limit. */
export type DistinctState = Map<number, number> | Uint8Array;

export interface GroupTiles {
  cnt: Float64Array;
  sum: Float64Array | null;
  /** Sum of squared deviations from the tile's mean. */
  m2: Float64Array | null;
  min: Float64Array | null;
  max: Float64Array | null;
  firstV: Float64Array | null;
  firstT: Float64Array | null;
  lastV: Float64Array | null;
  lastT: Float64Array | null;
  /** n slots per tile. */
  lastN: Float64Array | null;
  distinct: (DistinctState | undefined)[] | null;
}

export function tileIndex(ts: number, tileMs: number): number {
  return Math.ceil(ts / tileMs) - 1;
}

export class TileStore {
  /** Number of tiles in use. */
  m = 0;
  idx: Float64Array;
  readonly g: GroupTiles[];
  readonly #groups: readonly GroupPlan[];

  constructor(plan: ViewPlan, capacity: number) {
    this.#groups = plan.groups;
    this.idx = new Float64Array(capacity);
    this.g = plan.groups.map((gp) => ({
      cnt: new Float64Array(capacity),
      sum: gp.sum || gp.m2 ? new Float64Array(capacity) : null,
      m2: gp.m2 ? new Float64Array(capacity) : null,
      min: gp.min ? new Float64Array(capacity) : null,
      max: gp.max ? new Float64Array(capacity) : null,
      firstV: gp.first ? new Float64Array(capacity) : null,
      firstT: gp.first ? new Float64Array(capacity) : null,
      lastV: gp.last ? new Float64Array(capacity) : null,
      lastT: gp.last ? new Float64Array(capacity) : null,
      lastN: gp.lastN ? new Float64Array(capacity * gp.lastN) : null,
      distinct: gp.distinct ? new Array<DistinctState | undefined>(capacity) : null,
    }));
  }

  /** A store over existing arrays (first `m` slots in use); groups must need only count/sum/m2/min/max. */
  static wrap(
    plan: ViewPlan,
    m: number,
    idx: Float64Array,
    arrays: {
      cnt: Float64Array[];
      sum: Float64Array[];
      m2: Float64Array[];
      min: Float64Array[];
      max: Float64Array[];
    },
  ): TileStore {
    const store = new TileStore(plan, 0);
    store.idx = idx.subarray(0, m);
    store.m = m;
    plan.groups.forEach((gp, gi) => {
      const t = store.g[gi];
      const view = (a: Float64Array, on: boolean) => (on ? a.subarray(0, m) : null);
      t.cnt = arrays.cnt[gi].subarray(0, m);
      t.sum = view(arrays.sum[gi], gp.sum || gp.m2);
      t.m2 = view(arrays.m2[gi], gp.m2);
      t.min = view(arrays.min[gi], gp.min);
      t.max = view(arrays.max[gi], gp.max);
    });
    return store;
  }

  get capacity(): number {
    return this.idx.length;
  }

  /** Grows every array to hold at least `cap` tiles. */
  reserve(cap: number): void {
    if (cap <= this.idx.length) return;
    const next = Math.max(cap, this.idx.length * 2, 4);
    const grow = (a: Float64Array, per = 1) => {
      const b = new Float64Array(next * per);
      b.set(a);
      return b;
    };
    this.idx = grow(this.idx);
    this.g.forEach((t, gi) => {
      t.cnt = grow(t.cnt);
      if (t.sum) t.sum = grow(t.sum);
      if (t.m2) t.m2 = grow(t.m2);
      if (t.min) t.min = grow(t.min);
      if (t.max) t.max = grow(t.max);
      if (t.firstV) t.firstV = grow(t.firstV);
      if (t.firstT) t.firstT = grow(t.firstT);
      if (t.lastV) t.lastV = grow(t.lastV);
      if (t.lastT) t.lastT = grow(t.lastT);
      if (t.lastN) t.lastN = grow(t.lastN, this.#groups[gi].lastN);
    });
  }

  /** Resets slot s to an empty tile with index k. */
  clear(s: number, k: number): void {
    this.idx[s] = k;
    for (let gi = 0; gi < this.g.length; gi++) {
      const t = this.g[gi];
      t.cnt[s] = 0;
      if (t.sum) t.sum[s] = 0;
      if (t.m2) t.m2[s] = 0;
      if (t.min) t.min[s] = Infinity;
      if (t.max) t.max[s] = -Infinity;
      if (t.distinct) t.distinct[s] = undefined;
    }
  }

  /** Appends an empty tile with index k; returns its slot. */
  push(k: number): number {
    if (this.m >= this.idx.length) this.reserve(this.m + 1);
    const s = this.m++;
    this.clear(s, k);
    return s;
  }

  /** Adds one event's value to group gi of slot s (NaN = missing or filtered out: ignored). */
  add(s: number, gi: number, v: number, ts: number, hash: number): void {
    if (v !== v) return;
    const t = this.g[gi];
    const c = t.cnt[s]++;
    if (t.m2) {
      // Welford: the deviation from the mean before and after this value
      const d = c ? v - t.sum![s] / c : 0;
      t.sum![s] += v;
      t.m2[s] += d * (v - t.sum![s] / (c + 1));
    } else if (t.sum) t.sum[s] += v;
    if (t.min && v < t.min[s]) t.min[s] = v;
    if (t.max && v > t.max[s]) t.max[s] = v;
    if (t.firstV && c === 0) {
      t.firstV[s] = v;
      t.firstT![s] = ts;
    }
    if (t.lastV) {
      t.lastV[s] = v;
      t.lastT![s] = ts;
    }
    if (t.lastN) {
      const n = this.#groups[gi].lastN;
      const base = s * n;
      if (c < n) t.lastN[base + c] = v;
      else {
        t.lastN.copyWithin(base, base + 1, base + n);
        t.lastN[base + n - 1] = v;
      }
    }
    if (t.distinct) t.distinct[s] = distinctAdd(t.distinct[s], v, hash, this.#groups[gi].distinct);
  }

  /** Drops tiles [0, k) (streaming retention). */
  dropFront(k: number): void {
    if (k <= 0) return;
    const m = this.m;
    this.idx.copyWithin(0, k, m);
    this.g.forEach((t, gi) => {
      for (const key of ['cnt', 'sum', 'm2', 'min', 'max', 'firstV', 'firstT', 'lastV', 'lastT'] as const)
        t[key]?.copyWithin(0, k, m);
      const n = this.#groups[gi].lastN;
      t.lastN?.copyWithin(0, k * n, m * n);
      if (t.distinct) t.distinct.splice(0, k);
    });
    this.m = m - k;
  }
}

export function distinctAdd(state: DistinctState | undefined, v: number, hash: number, limit: number): DistinctState {
  if (state instanceof Uint8Array) {
    hllAdd(state, hash);
    return state;
  }
  const st = state ?? new Map<number, number>();
  if (!st.has(v)) {
    st.set(v, hash);
    if (st.size > limit) {
      const reg = hllNew();
      for (const h of st.values()) hllAdd(reg, h);
      return reg;
    }
  }
  return st;
}
