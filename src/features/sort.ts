/**
 * Sort-once: orders events by (entity code, event time, created time, input order) and carries value
 * columns along. Cache-friendly two-step radix sort instead of a comparison sort:
 *   1. scatter rows into a few hundred buckets by the entity code's high bits (few write streams);
 *   2. per bucket (fits in L2): LSD radix passes (11-bit digits) on the event time, then a stable
 *      counting pass on the code's low bits.
 * Stable: equal (entity, time, created) keep their input order.
 */

export interface SortedEvents {
  /** Input row of each sorted position. */
  readonly order: Int32Array;
  /** Entity code c owns sorted positions [offsets[c], offsets[c+1]). */
  readonly offsets: Int32Array;
  readonly ts: Float64Array;
  /** Carried columns, in sorted order. */
  readonly carried: Float64Array[];
  /** Created times in sorted order (when given). */
  readonly created: Float64Array | null;
}

const DIGIT = 11;
const RADIX = 1 << DIGIT;

/**
 * Sorts events. Rows with a negative code or a NaN time are dropped.
 * @param codes entity code per row (0…nCodes-1, or -1)
 * @param carry columns to reorder alongside (same length as codes)
 */
export function sortEvents(
  codes: Int32Array,
  nCodes: number,
  ts: Float64Array,
  created: Float64Array | null,
  carry: readonly Float64Array[],
): SortedEvents {
  const n = codes.length;
  let shift = 0;
  while (nCodes >>> shift > 256) shift++;
  const nb = (nCodes >>> shift) + 1;
  const boff = new Int32Array(nb + 1);
  let kept = 0;
  let min = Infinity;
  let max = -Infinity;
  let ints = true;
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    const t = ts[i];
    if (c >= 0 && t === t) {
      boff[(c >>> shift) + 1]++;
      kept++;
      if (t < min) min = t;
      if (t > max) max = t;
      if (ints && t !== Math.floor(t)) ints = false;
    }
  }
  for (let b = 0; b < nb; b++) boff[b + 1] += boff[b];
  const bpos = boff.slice(0, nb);
  // step 1: bucket scatter
  const bts = new Float64Array(kept);
  const bidx = new Int32Array(kept);
  const bcode = new Int32Array(kept);
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    const t = ts[i];
    if (c < 0 || t !== t) continue;
    const p = bpos[c >>> shift]++;
    bts[p] = t;
    bidx[p] = i;
    bcode[p] = c;
  }
  // step 2: per-bucket permutation
  const perm = new Int32Array(kept);
  const offsets = new Int32Array(nCodes + 1);
  offsets[nCodes] = kept;
  const range = max - min;
  const radixOk = ints && range < 2 ** 53;
  let maxBucket = 0;
  for (let b = 0; b < nb; b++) maxBucket = Math.max(maxBucket, boff[b + 1] - boff[b]);
  const ctx = {
    small: range < 2 ** 32,
    passes: radixOk ? Math.max(1, Math.ceil(Math.log2(range + 1) / DIGIT)) : 0,
    ka: new Float64Array(0),
    kb: new Float64Array(0),
    ua: new Uint32Array(0),
    ub: new Uint32Array(0),
    pa: new Int32Array(maxBucket),
    pb: new Int32Array(maxBucket),
    hist: new Int32Array(RADIX),
  };
  if (radixOk && ctx.small) {
    ctx.ua = new Uint32Array(maxBucket);
    ctx.ub = new Uint32Array(maxBucket);
  } else if (radixOk) {
    ctx.ka = new Float64Array(maxBucket);
    ctx.kb = new Float64Array(maxBucket);
  }
  const width = 1 << shift;
  const chist = new Int32Array(width + 1);
  for (let b = 0; b < nb; b++) {
    const a = boff[b];
    const m = boff[b + 1] - a;
    const local = radixOk ? radixBucket(bts, a, m, min, ctx) : compareBucket(bts, a, m);
    const base = b << shift;
    const codesHere = Math.min(width, nCodes - base);
    chist.fill(0);
    for (let j = 0; j < m; j++) chist[bcode[a + j] - base + 1]++;
    for (let d = 0; d < width; d++) chist[d + 1] += chist[d];
    for (let d = 0; d < codesHere; d++) offsets[base + d] = a + chist[d];
    for (let k = 0; k < m; k++) {
      const j = local[k];
      perm[a + chist[bcode[a + j] - base]++] = a + j;
    }
  }
  // step 3: gather in sorted order (reads stay inside one bucket)
  const order = new Int32Array(kept);
  const outTs = new Float64Array(kept);
  for (let p = 0; p < kept; p++) {
    const q = perm[p];
    order[p] = bidx[q];
    outTs[p] = bts[q];
  }
  const gather = (col: Float64Array): Float64Array => {
    // scatter into bucket order (sequential reads), then gather within buckets
    const inBuckets = new Float64Array(kept);
    bpos.set(boff.subarray(0, nb));
    for (let i = 0; i < n; i++) {
      const c = codes[i];
      if (c < 0 || ts[i] !== ts[i]) continue;
      inBuckets[bpos[c >>> shift]++] = col[i];
    }
    const out = new Float64Array(kept);
    for (let p = 0; p < kept; p++) out[p] = inBuckets[perm[p]];
    return out;
  };
  const carried = carry.map(gather);
  const outCreated = created ? gather(created) : null;
  if (outCreated) breakTies(offsets, nCodes, outTs, outCreated, order, carried);
  return { order, offsets, ts: outTs, carried, created: outCreated };
}

interface RadixCtx {
  small: boolean;
  passes: number;
  ka: Float64Array;
  kb: Float64Array;
  ua: Uint32Array;
  ub: Uint32Array;
  pa: Int32Array;
  pb: Int32Array;
  hist: Int32Array;
}

/** LSD radix on (t - min); returns bucket-local indices in time order (stable). */
function radixBucket(bts: Float64Array, a: number, m: number, min: number, ctx: RadixCtx): Int32Array {
  let { pa, pb } = ctx;
  const hist = ctx.hist;
  for (let j = 0; j < m; j++) pa[j] = j;
  if (ctx.small) {
    let ka = ctx.ua;
    let kb = ctx.ub;
    for (let j = 0; j < m; j++) ka[j] = bts[a + j] - min;
    for (let pass = 0, sh = 0; pass < ctx.passes; pass++, sh += DIGIT) {
      hist.fill(0);
      for (let j = 0; j < m; j++) hist[(ka[j] >>> sh) & (RADIX - 1)]++;
      if (single(hist, m)) continue;
      let sum = 0;
      for (let d = 0; d < RADIX; d++) {
        const h = hist[d];
        hist[d] = sum;
        sum += h;
      }
      for (let j = 0; j < m; j++) {
        const x = ka[j];
        const q = hist[(x >>> sh) & (RADIX - 1)]++;
        kb[q] = x;
        pb[q] = pa[j];
      }
      [ka, kb] = [kb, ka];
      [pa, pb] = [pb, pa];
    }
    ctx.ua = ka;
    ctx.ub = kb;
  } else {
    let ka = ctx.ka;
    let kb = ctx.kb;
    for (let j = 0; j < m; j++) ka[j] = bts[a + j] - min;
    for (let pass = 0, div = 1; pass < ctx.passes; pass++, div *= RADIX) {
      hist.fill(0);
      for (let j = 0; j < m; j++) hist[Math.floor(ka[j] / div) % RADIX]++;
      if (single(hist, m)) continue;
      let sum = 0;
      for (let d = 0; d < RADIX; d++) {
        const h = hist[d];
        hist[d] = sum;
        sum += h;
      }
      for (let j = 0; j < m; j++) {
        const x = ka[j];
        const q = hist[Math.floor(x / div) % RADIX]++;
        kb[q] = x;
        pb[q] = pa[j];
      }
      [ka, kb] = [kb, ka];
      [pa, pb] = [pb, pa];
    }
    ctx.ka = ka;
    ctx.kb = kb;
  }
  ctx.pa = pa;
  ctx.pb = pb;
  return pa;
}

function single(hist: Int32Array, m: number): boolean {
  for (let d = 0; d < RADIX; d++) if (hist[d] !== 0) return hist[d] === m;
  return true;
}

/** Fallback for fractional or huge times: comparison sort by (time, index). */
function compareBucket(bts: Float64Array, a: number, m: number): Int32Array {
  const idx = Array.from({ length: m }, (_, j) => j);
  idx.sort((x, y) => bts[a + x] - bts[a + y] || x - y);
  return Int32Array.from(idx);
}

/** Within each run of equal (entity, time), orders by created time (missing = oldest), then input order. */
function breakTies(offsets: Int32Array, nCodes: number, ts: Float64Array, created: Float64Array, order: Int32Array, carried: Float64Array[]): void {
  for (let c = 0; c < nCodes; c++) {
    const end = offsets[c + 1];
    let s = offsets[c];
    for (let k = s + 1; k <= end; k++) {
      if (k === end || ts[k] !== ts[s]) {
        if (k - s > 1) {
          const idx = Array.from({ length: k - s }, (_, j) => s + j);
          const cr = (p: number) => (created[p] === created[p] ? created[p] : -Infinity);
          idx.sort((x, y) => cr(x) - cr(y) || order[x] - order[y]);
          const perm = (arr: Float64Array | Int32Array) => {
            const vals = idx.map((p) => arr[p]);
            for (let j = 0; j < vals.length; j++) arr[s + j] = vals[j];
          };
          perm(created);
          perm(order);
          for (const col of carried) perm(col);
        }
        s = k;
      }
    }
  }
}
