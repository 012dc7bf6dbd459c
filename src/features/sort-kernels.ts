/**
 * The sort's inner loops, written as self-contained functions (no imports, no outer variables) so
 * the same code runs on the main thread and — via `Function.prototype.toString` — in a worker.
 * Each works on a slice: rows [from, to) or buckets [b0, b1).
 */

export interface HistArgs {
  codes: Int32Array;
  ts: Float64Array;
  from: number;
  to: number;
  shift: number;
  /** Out: events per bucket in this slice. */
  hist: Int32Array;
  /** Out: [min time, max time, 1 if all times are integers]. */
  stats: Float64Array;
}

export function histKernel(a: HistArgs): void {
  const { codes, ts, from, to, shift, hist } = a;
  let min = Infinity;
  let max = -Infinity;
  let ints = 1;
  for (let i = from; i < to; i++) {
    const c = codes[i];
    const t = ts[i];
    if (c >= 0 && t === t) {
      hist[c >>> shift]++;
      if (t < min) min = t;
      if (t > max) max = t;
      if (ints && t !== Math.floor(t)) ints = 0;
    }
  }
  a.stats[0] = min;
  a.stats[1] = max;
  a.stats[2] = ints;
}

export interface ScatterArgs {
  codes: Int32Array;
  ts: Float64Array;
  from: number;
  to: number;
  shift: number;
  /** Next write position per bucket for this slice (advanced in place). */
  pos: Int32Array;
  bts: Float64Array;
  bidx: Int32Array;
  bcode: Int32Array;
  carry: Float64Array[];
  bcarry: Float64Array[];
}

export function scatterKernel(a: ScatterArgs): void {
  const { codes, ts, from, to, shift, bts, bidx, bcode } = a;
  const pos = a.pos;
  const start = pos.slice();
  for (let i = from; i < to; i++) {
    const c = codes[i];
    const t = ts[i];
    if (c < 0 || t !== t) continue;
    const p = pos[c >>> shift]++;
    bts[p] = t;
    bidx[p] = i;
    bcode[p] = c;
  }
  // carried columns: one pass each, same positions
  for (let k = 0; k < a.carry.length; k++) {
    const col = a.carry[k];
    const out = a.bcarry[k];
    pos.set(start);
    for (let i = from; i < to; i++) {
      const c = codes[i];
      if (c < 0 || ts[i] !== ts[i]) continue;
      out[pos[c >>> shift]++] = col[i];
    }
  }
}

export interface BucketArgs {
  b0: number;
  b1: number;
  boff: Int32Array;
  shift: number;
  nCodes: number;
  min: number;
  /** 0: comparison sort; else the number of significant bits of (time - min). */
  bits: number;
  /** Times fit in 32 bits after subtracting min. */
  small: boolean;
  bts: Float64Array;
  bidx: Int32Array;
  bcode: Int32Array;
  bcarry: Float64Array[];
  offsets: Int32Array;
  order: Int32Array;
  outTs: Float64Array;
  outCarry: Float64Array[];
}

/** Sorts buckets [b0, b1) by (code, time, input order) and writes the outputs for them. */
export function bucketKernel(a: BucketArgs): void {
  const { boff, shift, nCodes, min, bits, small, bts, bidx, bcode, offsets, order, outTs } = a;
  const passes = Math.ceil(bits / 11);
  const RADIX = 2048;
  let maxBucket = 0;
  for (let b = a.b0; b < a.b1; b++) if (boff[b + 1] - boff[b] > maxBucket) maxBucket = boff[b + 1] - boff[b];
  let pa = new Int32Array(maxBucket);
  let pb = new Int32Array(maxBucket);
  let ua = new Uint32Array(small && bits ? maxBucket : 0);
  let ub = new Uint32Array(small && bits ? maxBucket : 0);
  let fa = new Float64Array(!small && bits ? maxBucket : 0);
  let fb = new Float64Array(!small && bits ? maxBucket : 0);
  const hist = new Int32Array(65536);
  const width = 1 << shift;
  const chist = new Int32Array(width + 1);
  const perm = new Int32Array(maxBucket);
  for (let b = a.b0; b < a.b1; b++) {
    const base0 = boff[b];
    const m = boff[b + 1] - base0;
    for (let j = 0; j < m; j++) pa[j] = j;
    if (bits === 0) {
      const idx = Array.from(pa.subarray(0, m));
      idx.sort((x, y) => bts[base0 + x] - bts[base0 + y] || x - y);
      for (let j = 0; j < m; j++) pa[j] = idx[j];
    } else if (small) {
      // big buckets: 16-bit digits (fewer passes); small ones: 11-bit (cheaper histograms)
      const digit = m >= 16384 ? 16 : 11;
      const radix = 1 << digit;
      const mask = radix - 1;
      const np = Math.ceil(bits / digit);
      for (let j = 0; j < m; j++) ua[j] = bts[base0 + j] - min;
      for (let pass = 0, sh = 0; pass < np; pass++, sh += digit) {
        hist.fill(0, 0, radix);
        for (let j = 0; j < m; j++) hist[(ua[j] >>> sh) & mask]++;
        let single = false;
        for (let d = 0; d < radix; d++) {
          if (hist[d] !== 0) {
            single = hist[d] === m;
            break;
          }
        }
        if (single) continue;
        let sum = 0;
        for (let d = 0; d < radix; d++) {
          const h = hist[d];
          hist[d] = sum;
          sum += h;
        }
        for (let j = 0; j < m; j++) {
          const x = ua[j];
          const q = hist[(x >>> sh) & mask]++;
          ub[q] = x;
          pb[q] = pa[j];
        }
        const tu = ua;
        ua = ub;
        ub = tu;
        const tp = pa;
        pa = pb;
        pb = tp;
      }
    } else {
      for (let j = 0; j < m; j++) fa[j] = bts[base0 + j] - min;
      for (let pass = 0, div = 1; pass < passes; pass++, div *= RADIX) {
        hist.fill(0, 0, RADIX);
        for (let j = 0; j < m; j++) hist[Math.floor(fa[j] / div) % RADIX]++;
        let sum = 0;
        for (let d = 0; d < RADIX; d++) {
          const h = hist[d];
          hist[d] = sum;
          sum += h;
        }
        for (let j = 0; j < m; j++) {
          const x = fa[j];
          const q = hist[Math.floor(x / div) % RADIX]++;
          fb[q] = x;
          pb[q] = pa[j];
        }
        const tf = fa;
        fa = fb;
        fb = tf;
        const tp = pa;
        pa = pb;
        pb = tp;
      }
    }
    // stable counting pass on the code's low bits
    const base = b << shift;
    const codesHere = Math.min(width, nCodes - base);
    chist.fill(0);
    for (let j = 0; j < m; j++) chist[bcode[base0 + j] - base + 1]++;
    for (let d = 0; d < width; d++) chist[d + 1] += chist[d];
    for (let d = 0; d < codesHere; d++) offsets[base + d] = base0 + chist[d];
    for (let k = 0; k < m; k++) {
      const j = pa[k];
      perm[chist[bcode[base0 + j] - base]++] = j;
    }
    // gather this bucket's outputs while it is in cache
    for (let k = 0; k < m; k++) {
      const q = base0 + perm[k];
      order[base0 + k] = bidx[q];
      outTs[base0 + k] = bts[q];
    }
    for (let c = 0; c < a.bcarry.length; c++) {
      const src = a.bcarry[c];
      const dst = a.outCarry[c];
      for (let k = 0; k < m; k++) dst[base0 + k] = src[base0 + perm[k]];
    }
  }
}

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
  sumsq: Float64Array[];
  min: Float64Array[];
  max: Float64Array[];
}

/**
 * Backfill for groups needing only count/sum/sumsq/min/max, buckets [b0, b1): radix by tile index,
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
  const sq0 = a.sumsq[0];
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
      const digit = m >= 16384 ? 16 : 11;
      const radix = 1 << digit;
      const mask = radix - 1;
      const np = Math.ceil(bits / digit);
      for (let pass = 0, sh = 0; pass < np; pass++, sh += digit) {
        hist.fill(0, 0, radix);
        for (let j = 0; j < m; j++) hist[(ka[j] >>> sh) & mask]++;
        let single = false;
        for (let d = 0; d < radix; d++) {
          if (hist[d] !== 0) {
            single = hist[d] === m;
            break;
          }
        }
        if (single) continue;
        let sum = 0;
        for (let d = 0; d < radix; d++) {
          const h = hist[d];
          hist[d] = sum;
          sum += h;
        }
        for (let j = 0; j < m; j++) {
          const x = ka[j];
          const q = hist[(x >>> sh) & mask]++;
          kb[q] = x;
          pb[q] = pa[j];
        }
        const t1 = ka;
        ka = kb;
        kb = t1;
        const t2 = pa;
        pa = pb;
        pb = t2;
      }
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
          c++;
          su += v;
          ss += v * v;
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
          let c = 0;
          let su = 0;
          let ss = 0;
          let lo = Infinity;
          let hi = -Infinity;
          for (let x = k; x < e; x++) {
            const v = vals[base0 + perm[x]];
            if (v !== v) continue;
            c++;
            su += v;
            ss += v * v;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
          a.cnt[g][s] = c;
          if (a.sum[g].length) a.sum[g][s] = su;
          if (a.sumsq[g].length) a.sumsq[g][s] = ss;
          if (a.min[g].length) a.min[g][s] = lo;
          if (a.max[g].length) a.max[g][s] = hi;
        }
      }
      k = e;
    }
    tileCount[b] = s - base0 + 1;
  }
}
