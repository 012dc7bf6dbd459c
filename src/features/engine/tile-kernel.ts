/** Backfill kernel (run by either thread, like the sort's; see pool.ts). */
import { radixSortU32 } from './radix.js';

export interface TileArgs {
  b0: number;
  b1: number;
  boff: Int32Array;
  shift: number;
  nCodes: number;
  bts: Float64Array;
  bidx: Int32Array;
  bcode: Int32Array;
  /** Group values in bucket order; the created time (if any) is the last entry when hasCreated. */
  bcarry: Float64Array[];
  hasCreated: boolean;
  tileMs: number;
  /** Smallest tile index; tile indices are radix-sorted relative to it. */
  kMin: number;
  /** Bits of (largest tile index - kMin); 0: fall back to a comparison sort. */
  bits: number;
  /** Out, per bucket: tiles written at [boff[b], boff[b] + tileCount[b]). */
  tileCount: Int32Array;
  tileIdx: Float64Array;
  tileCode: Int32Array;
  /** Per group state arrays (length-0 arrays for components the group does not need). */
  cnt: Float64Array[];
  sum: Float64Array[];
  /** Sum of squared deviations from the tile's mean (Welford's update, as TileStore.add). */
  m2: Float64Array[];
  min: Float64Array[];
  max: Float64Array[];
}

/**
 * Backfill for groups needing only count/sum/m2/min/max, buckets [b0, b1): radix by tile index,
 * counting by code, then events of each (entity, tile) in (time, created, input) order — the order
 * the sorted path and streaming use — folded into the tile's state.
 */
export function tileKernel(a: TileArgs): void {
  const { boff, shift, bts, bcode, bcarry, hasCreated, tileMs, kMin, bits, tileCount, tileIdx, tileCode } = a;
  const ng = a.cnt.length;
  const created = hasCreated ? bcarry[bcarry.length - 1] : null;
  let maxBucket = 0;
  for (let b = a.b0; b < a.b1; b++) if (boff[b + 1] - boff[b] > maxBucket) maxBucket = boff[b + 1] - boff[b];
  let pa = new Int32Array(maxBucket);
  let pb = new Int32Array(maxBucket);
  let ka = new Uint32Array(maxBucket);
  let kb = new Uint32Array(maxBucket);
  const tk = new Uint32Array(maxBucket);
  const perm = new Int32Array(maxBucket);
  const hist = new Int32Array(65536);
  const width = 1 << shift;
  const chist = new Int32Array(width + 1);
  const one = ng === 1;
  const v0 = bcarry[0];
  const cnt0 = a.cnt[0];
  const sum0 = a.sum[0];
  const sq0 = a.m2[0];
  const min0 = a.min[0];
  const max0 = a.max[0];
  const hasSum0 = one && sum0.length > 0;
  const hasSq0 = one && sq0.length > 0;
  const hasMin0 = one && min0.length > 0;
  const hasMax0 = one && max0.length > 0;
  for (let b = a.b0; b < a.b1; b++) {
    const base0 = boff[b];
    const m = boff[b + 1] - base0;
    for (let j = 0; j < m; j++) {
      pa[j] = j;
      const k = Math.ceil(bts[base0 + j] / tileMs) - 1 - kMin;
      ka[j] = k;
      tk[j] = k;
    }
    if (bits === 0) {
      const idx = Array.from(pa.subarray(0, m));
      idx.sort((x, y) => tk[x] - tk[y] || x - y);
      for (let j = 0; j < m; j++) pa[j] = idx[j];
    } else {
      ({ keys: ka, perm: pa, keysTmp: kb, permTmp: pb } = radixSortU32(ka, kb, pa, pb, m, bits, hist));
    }
    // stable counting by the code's low bits
    const base = b << shift;
    chist.fill(0);
    for (let j = 0; j < m; j++) chist[bcode[base0 + j] - base + 1]++;
    for (let d = 0; d < width; d++) chist[d + 1] += chist[d];
    for (let k = 0; k < m; k++) {
      const j = pa[k];
      perm[chist[bcode[base0 + j] - base]++] = j;
    }
    // fold runs of equal (code, tile) into tiles
    let s = base0 - 1;
    let k = 0;
    while (k < m) {
      const j0 = perm[k];
      const code = bcode[base0 + j0];
      const tile = tk[j0];
      let e = k + 1;
      while (e < m && tk[perm[e]] === tile && bcode[base0 + perm[e]] === code) e++;
      if (e - k > 1) {
        // events of one tile: order by (time, created, input) — input order is the bucket order j
        for (let x = k + 1; x < e; x++) {
          const jv = perm[x];
          const tv = bts[base0 + jv];
          const cv = created ? (created[base0 + jv] === created[base0 + jv] ? created[base0 + jv] : -Infinity) : 0;
          let q = x - 1;
          while (q >= k) {
            const jq = perm[q];
            const tq = bts[base0 + jq];
            const cq = created ? (created[base0 + jq] === created[base0 + jq] ? created[base0 + jq] : -Infinity) : 0;
            if (tq > tv || (tq === tv && (cq > cv || (cq === cv && jq > jv)))) {
              perm[q + 1] = jq;
              q--;
            } else break;
          }
          perm[q + 1] = jv;
        }
      }
      s++;
      tileIdx[s] = tile + kMin;
      tileCode[s] = code;
      if (one) {
        let c = 0;
        let su = 0;
        let ss = 0;
        let lo = Infinity;
        let hi = -Infinity;
        for (let x = k; x < e; x++) {
          const v = v0[base0 + perm[x]];
          if (v !== v) continue;
          if (hasSq0) {
            const d = c ? v - su / c : 0;
            su += v;
            c++;
            ss += d * (v - su / c);
          } else {
            c++;
            su += v;
          }
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        cnt0[s] = c;
        if (hasSum0) sum0[s] = su;
        if (hasSq0) sq0[s] = ss;
        if (hasMin0) min0[s] = lo;
        if (hasMax0) max0[s] = hi;
      } else {
        for (let g = 0; g < ng; g++) {
          const vals = bcarry[g];
          const dev = a.m2[g].length > 0;
          let c = 0;
          let su = 0;
          let ss = 0;
          let lo = Infinity;
          let hi = -Infinity;
          for (let x = k; x < e; x++) {
            const v = vals[base0 + perm[x]];
            if (v !== v) continue;
            if (dev) {
              const d = c ? v - su / c : 0;
              su += v;
              c++;
              ss += d * (v - su / c);
            } else {
              c++;
              su += v;
            }
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
          a.cnt[g][s] = c;
          if (a.sum[g].length) a.sum[g][s] = su;
          if (dev) a.m2[g][s] = ss;
          if (a.min[g].length) a.min[g][s] = lo;
          if (a.max[g].length) a.max[g][s] = hi;
        }
      }
      k = e;
    }
    tileCount[b] = s - base0 + 1;
  }
}
