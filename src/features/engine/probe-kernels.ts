/**
 * Point-in-time kernels (run by either thread, like the sort's; see pool.ts): events in
 * entity buckets probe the time-sorted lookup rows of their entity.
 */

export interface ProbeArgs {
  b0: number;
  b1: number;
  boff: Int32Array;
  bts: Float64Array;
  bidx: Int32Array;
  bcode: Int32Array;
  /** Created times in bucket order, or an empty array. */
  bcreated: Float64Array;
  /** Lookup rows sorted by (code, time): code c owns [rowOff[c], rowOff[c+1]). */
  rowOff: Int32Array;
  rowTs: Float64Array;
  /** Per sorted lookup row: the best candidate event that starts there. */
  bestTs: Float64Array;
  bestCr: Float64Array;
  bestIdx: Int32Array;
}

/**
 * Point-in-time probe for buckets [b0, b1): each event becomes a candidate at the first lookup row of
 * its entity with row time >= event time; a later sweep carries the best candidate forward.
 * Best = largest (time, created, input row).
 */
export function probeKernel(a: ProbeArgs): void {
  const { boff, bts, bidx, bcode, bcreated, rowOff, rowTs, bestTs, bestCr, bestIdx } = a;
  const hasCreated = bcreated.length > 0;
  for (let p = boff[a.b0], end = boff[a.b1]; p < end; p++) {
    const c = bcode[p];
    const hi = rowOff[c + 1];
    let l = rowOff[c];
    if (l === hi) continue;
    const t = bts[p];
    if (hi - l <= 16) {
      // few rows per entity: a linear scan mispredicts less than a binary search
      while (l < hi && rowTs[l] < t) l++;
    } else {
      let h = hi;
      while (l < h) {
        const mid = (l + h) >>> 1;
        if (rowTs[mid] < t) l = mid + 1;
        else h = mid;
      }
    }
    if (l === hi) continue;
    const crRaw = hasCreated ? bcreated[p] : -Infinity;
    const cr = crRaw === crRaw ? crRaw : -Infinity;
    const i = bidx[p];
    const bt = bestTs[l];
    if (t > bt || (t === bt && (cr > bestCr[l] || (cr === bestCr[l] && i > bestIdx[l])))) {
      bestTs[l] = t;
      bestCr[l] = cr;
      bestIdx[l] = i;
    }
  }
}

export interface PairArgs {
  b0: number;
  b1: number;
  boff: Int32Array;
  bts: Float64Array;
  bidx: Int32Array;
  bcode: Int32Array;
  bcreated: Float64Array;
  rowOff: Int32Array;
  rowTs: Float64Array;
  /** Rows at time t need events in (t - reach, t]. */
  reach: number;
  /** 0: count pairs per row into `pos`; 1: write pairs at `pos` (advanced in place). */
  mode: number;
  pos: Int32Array;
  pairEv: Int32Array;
  pairTs: Float64Array;
  pairCr: Float64Array;
}

/**
 * Window probe for buckets [b0, b1): pairs every event with the lookup rows of its entity whose
 * time t satisfies ts <= t < ts + reach (rows sorted by time per entity).
 */
export function pairKernel(a: PairArgs): void {
  const { boff, bts, bidx, bcode, bcreated, rowOff, rowTs, reach, mode, pos, pairEv, pairTs, pairCr } = a;
  const hasCreated = bcreated.length > 0;
  for (let p = boff[a.b0], end = boff[a.b1]; p < end; p++) {
    const c = bcode[p];
    const hi = rowOff[c + 1];
    let l = rowOff[c];
    if (l === hi) continue;
    const t = bts[p];
    if (hi - l <= 16) {
      while (l < hi && rowTs[l] < t) l++;
    } else {
      let h = hi;
      while (l < h) {
        const mid = (l + h) >>> 1;
        if (rowTs[mid] < t) l = mid + 1;
        else h = mid;
      }
    }
    const limit = t + reach;
    if (mode === 0) {
      for (let r = l; r < hi && rowTs[r] < limit; r++) pos[r]++;
    } else {
      const cr = hasCreated ? bcreated[p] : Number.NaN;
      const i = bidx[p];
      for (let r = l; r < hi && rowTs[r] < limit; r++) {
        const q = pos[r]++;
        pairEv[q] = i;
        pairTs[q] = t;
        pairCr[q] = cr === cr ? cr : -Infinity;
      }
    }
  }
}
