/**
 * Window values from tiles plus raw events at the edges. For a window (a, b] and tile width T:
 *   raw events in (a, ceil(a/T)·T]  +  whole tiles ceil(a/T) … floor(b/T)-1  +  raw events in (floor(b/T)·T, b]
 * (all raw events when no whole tile fits). Always added in that order — left edge, tiles, right
 * edge — so batch and streaming, holding the same tiles and events, give identical values.
 */
import { hllAdd, hllEstimate, hllMerge, hllNew } from '../../stats/index.js';
import type { GroupPlan, ViewPlan } from './plan.js';
import { windowBounds } from './plan.js';
import type { TileStore } from './tiles.js';
import type { AggFunction } from '../definitions/types.js';

/** Raw events of one or many entities (sorted by time within each entity). */
export interface EventStore {
  ts: Float64Array;
  /** Per group: input value (NaN = missing / filtered out). */
  vals: Float64Array[];
  /** Per group: value hashes (count_distinct groups only). */
  hash: (Uint32Array | null)[];
}

/** First index in [lo, hi) with a[i] > x. */
export function upperBound(a: Float64Array, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in [lo, hi) with a[i] >= x. */
export function lowerBound(a: Float64Array, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class GroupAcc {
  cnt = 0;
  sum = 0;
  /** Sum of squared deviations from the mean (Welford; merged with Chan's formula). */
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  firstV = Number.NaN;
  lastV = Number.NaN;
  ring: Float64Array;
  ringLen = 0;
  exact: Map<number, number> | null = null;
  hll: Uint8Array | null = null;

  constructor(readonly plan: GroupPlan) {
    this.ring = new Float64Array(plan.lastN);
  }

  reset(): void {
    this.cnt = 0;
    this.sum = 0;
    this.m2 = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.firstV = Number.NaN;
    this.lastV = Number.NaN;
    this.ringLen = 0;
    this.exact?.clear();
    this.hll = null;
  }

  #push(v: number): void {
    const n = this.ring.length;
    if (this.ringLen < n) this.ring[this.ringLen++] = v;
    else {
      this.ring.copyWithin(0, 1);
      this.ring[n - 1] = v;
    }
  }

  #distinct(v: number, h: number): void {
    if (this.hll) {
      hllAdd(this.hll, h);
      return;
    }
    const ex = (this.exact ??= new Map());
    ex.set(v, h);
    if (ex.size > this.plan.distinct) this.#toHll();
  }

  #toHll(): Uint8Array {
    const reg = (this.hll = hllNew());
    for (const h of this.exact?.values() ?? []) hllAdd(reg, h);
    this.exact?.clear();
    return reg;
  }

  addEvents(ev: EventStore, gi: number, lo: number, hi: number): void {
    const vals = ev.vals[gi];
    const p = this.plan;
    const simple = !p.first && !p.last && !p.lastN && !p.distinct;
    const dev = p.m2;
    if (simple) {
      let { cnt, sum, m2, min, max } = this;
      for (let i = lo; i < hi; i++) {
        const v = vals[i];
        if (v !== v) continue;
        if (dev) {
          const d = cnt ? v - sum / cnt : 0;
          sum += v;
          cnt++;
          m2 += d * (v - sum / cnt);
        } else {
          cnt++;
          sum += v;
        }
        if (v < min) min = v;
        if (v > max) max = v;
      }
      this.cnt = cnt;
      this.sum = sum;
      this.m2 = m2;
      this.min = min;
      this.max = max;
      return;
    }
    const hash = ev.hash[gi];
    for (let i = lo; i < hi; i++) {
      const v = vals[i];
      if (v !== v) continue;
      if (this.cnt === 0) this.firstV = v;
      if (dev) {
        const d = this.cnt ? v - this.sum / this.cnt : 0;
        this.sum += v;
        this.cnt++;
        this.m2 += d * (v - this.sum / this.cnt);
      } else {
        this.cnt++;
        this.sum += v;
      }
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      this.lastV = v;
      if (p.lastN) this.#push(v);
      if (p.distinct) this.#distinct(v, hash![i]);
    }
  }

  /**
   * Events [lo, hi) taken tile by tile, exactly as materialized tiles would add them: each tile's
   * count, sum and m2 are built on their own from 0, then merged. Other states do not depend on
   * the grouping.
   */
  addEventsAsTiles(ev: EventStore, gi: number, lo: number, hi: number, tileMs: number): void {
    const p = this.plan;
    const full = !(p.first || p.last || p.lastN || p.distinct);
    const dev = p.m2;
    let { cnt, sum, m2 } = this;
    if (!full) {
      // the other states do not depend on the grouping; count, sum and m2 are redone below
      this.addEvents(ev, gi, lo, hi);
    }
    const vals = ev.vals[gi];
    const ts = ev.ts;
    let { min, max } = this;
    let k = Number.NaN;
    let tc = 0;
    let tsum = 0;
    let tm2 = 0;
    for (let i = lo; i < hi; i++) {
      const kk = Math.ceil(ts[i] / tileMs) - 1;
      if (kk !== k) {
        if (tc) {
          if (dev) m2 = mergeM2(cnt, sum, m2, tc, tsum, tm2);
          cnt += tc;
          sum += tsum;
        }
        tc = 0;
        tsum = 0;
        tm2 = 0;
        k = kk;
      }
      const v = vals[i];
      if (v !== v) continue;
      if (dev) {
        const d = tc ? v - tsum / tc : 0;
        tsum += v;
        tc++;
        tm2 += d * (v - tsum / tc);
      } else {
        tc++;
        tsum += v;
      }
      if (full) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    if (tc) {
      if (dev) m2 = mergeM2(cnt, sum, m2, tc, tsum, tm2);
      cnt += tc;
      sum += tsum;
    }
    if (full) {
      this.min = min;
      this.max = max;
    }
    this.cnt = cnt;
    this.sum = sum;
    this.m2 = m2;
  }

  addTiles(tiles: TileStore, gi: number, lo: number, hi: number): void {
    const t = tiles.g[gi];
    const p = this.plan;
    for (let s = lo; s < hi; s++) {
      const c = t.cnt[s];
      if (c === 0) continue;
      if (this.cnt === 0 && t.firstV) this.firstV = t.firstV[s];
      if (t.m2) this.m2 = mergeM2(this.cnt, this.sum, this.m2, c, t.sum![s], t.m2[s]);
      this.cnt += c;
      if (t.sum) this.sum += t.sum[s];
      if (t.min && t.min[s] < this.min) this.min = t.min[s];
      if (t.max && t.max[s] > this.max) this.max = t.max[s];
      if (t.lastV) this.lastV = t.lastV[s];
      if (t.lastN) {
        const n = p.lastN;
        const k = Math.min(c, n);
        for (let j = 0; j < k; j++) this.#push(t.lastN[s * n + j]);
      }
      if (t.distinct) {
        const st = t.distinct[s];
        if (st instanceof Uint8Array) hllMerge(this.hll ?? this.#toHll(), st);
        else if (st) for (const [v, h] of st) this.#distinct(v, h);
      }
    }
  }

  /** Final value of `fn` (NaN = null), or a list for last_n. */
  result(fn: AggFunction, n = 1): number | number[] {
    const c = this.cnt;
    switch (fn) {
      case 'count':
        return c;
      case 'sum':
        return c ? this.sum : Number.NaN;
      case 'mean':
        return c ? this.sum / c : Number.NaN;
      case 'stddev':
        return c > 1 ? Math.sqrt(Math.max(0, this.m2 / (c - 1))) : Number.NaN;
      case 'min':
        return c ? this.min : Number.NaN;
      case 'max':
        return c ? this.max : Number.NaN;
      case 'first':
        return c ? this.firstV : Number.NaN;
      case 'last':
        return c ? this.lastV : Number.NaN;
      case 'last_n':
        return Array.from(this.ring.subarray(Math.max(0, this.ringLen - n), this.ringLen));
      case 'count_distinct':
        return this.hll ? hllEstimate(this.hll) : (this.exact?.size ?? 0);
    }
  }
}

/**
 * Chan et al.'s parallel merge of two partial variances: the m2 (sum of squared deviations from the
 * mean) of A ∪ B from A's (count, sum, m2) and B's. Stable when values are large relative to their
 * spread (no sum of squares is ever formed).
 */
export function mergeM2(cA: number, sA: number, mA: number, cB: number, sB: number, mB: number): number {
  if (cA === 0) return mB;
  if (cB === 0) return mA;
  const d = sB / cB - sA / cA;
  return mA + mB + ((d * d * cA) / (cA + cB)) * cB;
}

/** One entity's event and tile ranges, handed to `Composer.at`. */
export interface EntityRange {
  e0: number;
  e1: number;
  t0: number;
  t1: number;
}

/**
 * Computes every aggregation of a plan for one entity as of time t; `emit(aggIndex, value)`.
 * Holds one accumulator per group, reused between calls.
 */
export class Composer {
  readonly accs: GroupAcc[];
  readonly #windows: { groups: number[]; aggs: number[] }[];

  constructor(readonly plan: ViewPlan) {
    this.accs = plan.groups.map((g) => new GroupAcc(g));
    this.#windows = plan.windows.map(() => ({ groups: [] as number[], aggs: [] as number[] }));
    plan.aggs.forEach((ap, ai) => {
      const w = this.#windows[ap.window];
      if (!w.groups.includes(ap.group)) w.groups.push(ap.group);
      w.aggs.push(ai);
    });
  }

  /** `tiles` null: tile partials are computed on the fly from the raw events (same values). */
  at(
    ev: EventStore,
    tiles: TileStore | null,
    r: EntityRange,
    t: number,
    emit: (agg: number, value: number | number[]) => void,
  ): void {
    const plan = this.plan;
    const accs = this.accs;
    const T = plan.tileMs;
    const ts = ev.ts;
    for (let w = 0; w < plan.windows.length; w++) {
      const [a, b] = windowBounds(plan.windows[w], t);
      const { groups, aggs } = this.#windows[w];
      for (let j = 0; j < groups.length; j++) accs[groups[j]].reset();
      const evLo = a === -Infinity ? r.e0 : upperBound(ts, a, r.e0, r.e1);
      const evHi = upperBound(ts, b, evLo, r.e1);
      // lifetime windows may reach tiles whose raw events streaming has already dropped
      if (evHi > evLo || a === -Infinity) {
        const kLo = a === -Infinity ? -Infinity : Math.ceil(a / T);
        const kHi = Math.floor(b / T);
        if (kLo < kHi) {
          const m1 = a === -Infinity ? evLo : upperBound(ts, kLo * T, evLo, evHi);
          const m2 = upperBound(ts, kHi * T, m1, evHi);
          if (!tiles) {
            for (let j = 0; j < groups.length; j++) {
              const gi = groups[j];
              const acc = accs[gi];
              acc.addEvents(ev, gi, evLo, m1);
              acc.addEventsAsTiles(ev, gi, m1, m2, T);
              acc.addEvents(ev, gi, m2, evHi);
            }
          } else {
            const tLo = a === -Infinity ? r.t0 : lowerBound(tiles.idx, kLo, r.t0, r.t1);
            // finite windows: whole tiles hold exactly the raw events [m1, m2), so none means no tile
            const tHi = m2 > m1 || a === -Infinity ? lowerBound(tiles.idx, kHi, tLo, r.t1) : tLo;
            for (let j = 0; j < groups.length; j++) {
              const gi = groups[j];
              const acc = accs[gi];
              acc.addEvents(ev, gi, evLo, m1);
              acc.addTiles(tiles, gi, tLo, tHi);
              acc.addEvents(ev, gi, m2, evHi);
            }
          }
        } else {
          for (let j = 0; j < groups.length; j++) accs[groups[j]].addEvents(ev, groups[j], evLo, evHi);
        }
      }
      for (let j = 0; j < aggs.length; j++) {
        const ai = aggs[j];
        const ap = plan.aggs[ai];
        emit(ai, accs[ap.group].result(ap.agg.function, ap.agg.n));
      }
    }
  }
}
