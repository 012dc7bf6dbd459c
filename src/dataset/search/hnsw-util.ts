import { StrataError } from '../../errors.js';
import type { RowFilter } from './metrics.js';

/**
 * Binary heap of (id, distance) on growable typed arrays: a min-heap (MinDistHeap, nearest on top)
 * or a max-heap (MaxDistHeap, farthest on top). Two classes so each comparison is monomorphic.
 */
abstract class DistHeapBase {
  ids = new Int32Array(64);
  dists = new Float64Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  /** Distance at the top. */
  topDist(): number {
    return this.dists[0];
  }

  protected grow(): void {
    const ids = new Int32Array(this.size * 2);
    ids.set(this.ids);
    const ds = new Float64Array(this.size * 2);
    ds.set(this.dists);
    this.ids = ids;
    this.dists = ds;
  }

  /** Index of the smallest distance (linear scan). */
  bestIndex(): number {
    let b = 0;
    for (let i = 1; i < this.size; i++) if (this.dists[i] < this.dists[b]) b = i;
    return b;
  }
}

export class MinDistHeap extends DistHeapBase {
  push(id: number, d: number): void {
    if (this.size === this.ids.length) this.grow();
    const { ids, dists } = this;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(d < dists[p])) break;
      ids[i] = ids[p];
      dists[i] = dists[p];
      i = p;
    }
    ids[i] = id;
    dists[i] = d;
  }

  /** Removes the top; returns its id. */
  pop(): number {
    const { ids, dists } = this;
    const top = ids[0];
    const n = --this.size;
    if (n === 0) return top;
    const id = ids[n];
    const d = dists[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && dists[r] < dists[l] ? r : l;
      if (!(dists[c] < d)) break;
      ids[i] = ids[c];
      dists[i] = dists[c];
      i = c;
    }
    ids[i] = id;
    dists[i] = d;
    return top;
  }
}

export class MaxDistHeap extends DistHeapBase {
  push(id: number, d: number): void {
    if (this.size === this.ids.length) this.grow();
    const { ids, dists } = this;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(d > dists[p])) break;
      ids[i] = ids[p];
      dists[i] = dists[p];
      i = p;
    }
    ids[i] = id;
    dists[i] = d;
  }

  /** Removes the top; returns its id. */
  pop(): number {
    const { ids, dists } = this;
    const top = ids[0];
    const n = --this.size;
    if (n === 0) return top;
    const id = ids[n];
    const d = dists[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && dists[r] > dists[l] ? r : l;
      if (!(dists[c] > d)) break;
      ids[i] = ids[c];
      dists[i] = dists[c];
      i = c;
    }
    ids[i] = id;
    dists[i] = d;
    return top;
  }
}

/** splitmix32: small, fast, seedable; `state` can be saved and restored. */
export class SplitMix {
  constructor(public state: number) {}
  /** Uniform in [0, 1). */
  next(): number {
    let z = (this.state = (this.state + 0x9e3779b9) >>> 0);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }
}

/** A one-byte-per-row mask from a RowFilter (mask passed through after a length check). */
export function rowFilterMask(filter: RowFilter, n: number): Uint8Array {
  if (filter instanceof Uint8Array) {
    if (filter.length !== n) {
      throw new StrataError('INVALID_ARGUMENT', `filter mask has ${filter.length} entries for ${n} rows`, {
        field: 'filter',
      });
    }
    return filter;
  }
  const mask = new Uint8Array(n);
  for (let t = 0; t < filter.length; t++) {
    const i = filter[t];
    if (!(Number.isInteger(i) && i >= 0 && i < n)) {
      throw new StrataError('INVALID_ARGUMENT', `filter row ${i} is outside 0..${n - 1}`, { field: 'filter', row: i });
    }
    mask[i] = 1;
  }
  return mask;
}
