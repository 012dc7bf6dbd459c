/**
 * One entity's streaming state for an aggregation view: its recent raw events (sorted by event time,
 * then created time, then arrival) and its tiles. In-order events extend the last tile exactly as the
 * batch backfill would; an out-of-order event is inserted in place and its tile is rebuilt from the
 * raw events, so the tiles always equal what a backfill over the same events produces.
 */
import { lowerBound, upperBound, type Composer, type EntityRange, type EventStore } from '../engine/compose.js';
import type { ViewPlan } from '../engine/plan.js';
import { TileStore, tileIndex } from '../engine/tiles.js';

export class EntityStream {
  n = 0;
  readonly ev: EventStore;
  created: Float64Array;
  readonly tiles: TileStore;
  readonly #plan: ViewPlan;
  readonly #range: EntityRange = { e0: 0, e1: 0, t0: 0, t1: 0 };

  constructor(
    plan: ViewPlan,
    readonly key: Record<string, unknown>,
  ) {
    this.#plan = plan;
    const cap = 4;
    this.ev = {
      ts: new Float64Array(cap),
      vals: plan.groups.map(() => new Float64Array(cap)),
      hash: plan.groups.map((g) => (g.distinct ? new Uint32Array(cap) : null)),
    };
    this.created = new Float64Array(cap);
    this.tiles = new TileStore(plan, 4);
  }

  #reserve(need: number): void {
    if (need <= this.ev.ts.length) return;
    const cap = Math.max(need, this.ev.ts.length * 2);
    const grow = <T extends Float64Array | Uint32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.ev.ts = grow(this.ev.ts);
    this.created = grow(this.created);
    this.ev.vals = this.ev.vals.map(grow);
    this.ev.hash = this.ev.hash.map((h) => (h ? grow(h) : null));
  }

  /** Adds one event (values per group, NaN = missing/filtered). */
  insert(ts: number, created: number, vals: readonly number[], hashes: readonly number[]): void {
    const n = this.n;
    this.#reserve(n + 1);
    const evTs = this.ev.ts;
    const cr = this.created;
    let pos = n;
    if (n > 0 && (ts < evTs[n - 1] || (ts === evTs[n - 1] && created < cr[n - 1]))) {
      pos = upperBound(evTs, ts, 0, n);
      while (pos > 0 && evTs[pos - 1] === ts && cr[pos - 1] > created) pos--;
    }
    if (pos < n) {
      evTs.copyWithin(pos + 1, pos, n);
      cr.copyWithin(pos + 1, pos, n);
      for (const v of this.ev.vals) v.copyWithin(pos + 1, pos, n);
      for (const h of this.ev.hash) h?.copyWithin(pos + 1, pos, n);
    }
    evTs[pos] = ts;
    cr[pos] = created;
    for (let g = 0; g < vals.length; g++) {
      this.ev.vals[g][pos] = vals[g];
      const h = this.ev.hash[g];
      if (h) h[pos] = hashes[g];
    }
    this.n = n + 1;
    const k = tileIndex(ts, this.#plan.tileMs);
    const tiles = this.tiles;
    if (pos === n && (tiles.m === 0 || tiles.idx[tiles.m - 1] <= k)) {
      const s = tiles.m > 0 && tiles.idx[tiles.m - 1] === k ? tiles.m - 1 : tiles.push(k);
      for (let g = 0; g < vals.length; g++) tiles.add(s, g, vals[g], ts, hashes[g]);
    } else this.#rebuildTile(k);
  }

  #rebuildTile(k: number): void {
    const tiles = this.tiles;
    let s = lowerBound(tiles.idx, k, 0, tiles.m);
    if (s >= tiles.m || tiles.idx[s] !== k) s = insertTile(tiles, s, k);
    else tiles.clear(s, k);
    const T = this.#plan.tileMs;
    const ts = this.ev.ts;
    const lo = upperBound(ts, k * T, 0, this.n);
    const hi = upperBound(ts, (k + 1) * T, lo, this.n);
    const ng = this.#plan.groups.length;
    for (let i = lo; i < hi; i++) {
      for (let g = 0; g < ng; g++) tiles.add(s, g, this.ev.vals[g][i], ts[i], this.ev.hash[g]?.[i] ?? 0);
    }
  }

  /** Drops raw events at or before `eventCut` and tiles ending at or before `tileCut` (ms). */
  prune(eventCut: number, tileCut: number): void {
    const cut = upperBound(this.ev.ts, eventCut, 0, this.n);
    if (cut > 0 && cut * 2 >= this.n) {
      const n = this.n;
      this.ev.ts.copyWithin(0, cut, n);
      this.created.copyWithin(0, cut, n);
      for (const v of this.ev.vals) v.copyWithin(0, cut, n);
      for (const h of this.ev.hash) h?.copyWithin(0, cut, n);
      this.n = n - cut;
    }
    if (tileCut > -Infinity) {
      const k = Math.floor(tileCut / this.#plan.tileMs);
      const tcut = lowerBound(this.tiles.idx, k, 0, this.tiles.m);
      if (tcut > 0 && tcut * 2 >= this.tiles.m) this.tiles.dropFront(tcut);
    }
  }

  /** Every aggregation as of time t. */
  valuesAt(t: number, composer: Composer, emit: (agg: number, v: number | number[]) => void): void {
    const r = this.#range;
    r.e0 = 0;
    r.e1 = this.n;
    r.t0 = 0;
    r.t1 = this.tiles.m;
    composer.at(this.ev, this.tiles, r, t, emit);
  }
}

/** Opens an empty tile with index k at slot s, shifting later tiles right. */
function insertTile(tiles: TileStore, s: number, k: number): number {
  const m = tiles.m;
  tiles.push(k);
  if (s < m) {
    tiles.idx.copyWithin(s + 1, s, m);
    for (const t of tiles.g) {
      for (const key of ['cnt', 'sum', 'm2', 'min', 'max', 'firstV', 'firstT', 'lastV', 'lastT'] as const)
        t[key]?.copyWithin(s + 1, s, m);
      if (t.lastN) {
        const n = t.lastN.length / tiles.capacity;
        t.lastN.copyWithin((s + 1) * n, s * n, m * n);
      }
      if (t.distinct) {
        t.distinct.splice(s, 0, undefined);
        t.distinct.length = tiles.capacity;
      }
    }
  }
  tiles.clear(s, k);
  return s;
}
