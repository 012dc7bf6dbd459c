/**
 * The sort's inner loops: the same functions run on the main thread and in the kernel worker
 * (kernel-worker.ts), so arguments are plain data and typed arrays, and results go into them.
 * Each works on a slice: rows [from, to) or buckets [b0, b1). (Probe and tile kernels: probe-kernels.ts, tile-kernel.ts.)
 */
import { radixSortU32 } from './radix.js';

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
      for (let j = 0; j < m; j++) ua[j] = bts[base0 + j] - min;
      ({ keys: ua, perm: pa, keysTmp: ub, permTmp: pb } = radixSortU32(ua, ub, pa, pb, m, bits, hist));
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
