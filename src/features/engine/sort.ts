/**
 * Sort-once: orders events by (entity code, event time, created time, input order) and carries value
 * columns along. Cache-friendly two-step radix sort instead of a comparison sort:
 *   1. scatter rows into a few hundred buckets by the entity code's high bits (few write streams);
 *   2. per bucket (fits in L2): LSD radix passes (11-bit digits) on the event time, then a stable
 *      counting pass on the code's low bits.
 * Stable: equal (entity, time, created) keep their input order.
 */
import { KERNELS, canParallelize, runOnWorker, sharedF64, sharedI32, toShared, type KernelName } from './pool.js';

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

export interface Buckets {
  readonly par: boolean;
  readonly shift: number;
  readonly nb: number;
  /** Bucket b owns [boff[b], boff[b+1]) of the bucket-ordered arrays. */
  readonly boff: Int32Array;
  readonly bts: Float64Array;
  readonly bidx: Int32Array;
  readonly bcode: Int32Array;
  readonly bcarry: Float64Array[];
  readonly min: number;
  readonly max: number;
  readonly ints: boolean;
}

/**
 * Step 1 of the sort (also used on its own by point-in-time probes): rows with a code and a time,
 * scattered into buckets of entity codes (stable), with columns carried along. Inputs of at least
 * `parallelMinEvents` rows are split with one worker thread (when workers are available).
 */
export async function bucketize(
  codes: Int32Array,
  nCodes: number,
  ts: Float64Array,
  carry: readonly Float64Array[],
  parallelMinEvents: number,
): Promise<Buckets> {
  const n = codes.length;
  const par = n >= parallelMinEvents && canParallelize();
  const f64 = par ? sharedF64 : (k: number) => new Float64Array(k);
  const i32 = par ? sharedI32 : (k: number) => new Int32Array(k);
  if (par) {
    codes = toShared(codes);
    ts = toShared(ts);
  }
  const cols = carry.map((c) => (par ? toShared(c) : c));
  let shift = 0;
  while (nCodes >>> shift > 256) shift++;
  const nb = (nCodes >>> shift) + 1;
  const half = par ? n >>> 1 : n;
  const h0 = { codes, ts, from: 0, to: half, shift, hist: i32(nb), stats: f64(3) };
  const h1 = { codes, ts, from: half, to: n, shift, hist: i32(nb), stats: f64(3) };
  await both(par, 'hist', h0, h1);
  const boff = par ? sharedI32(nb + 1) : new Int32Array(nb + 1);
  for (let b = 0; b < nb; b++) boff[b + 1] = boff[b] + h0.hist[b] + h1.hist[b];
  const kept = boff[nb];
  const bts = f64(kept);
  const bidx = i32(kept);
  const bcode = i32(kept);
  const bcarry = cols.map(() => f64(kept));
  const pos0 = i32(nb);
  const pos1 = i32(nb);
  for (let b = 0; b < nb; b++) {
    pos0[b] = boff[b];
    pos1[b] = boff[b] + h0.hist[b];
  }
  const s0 = { codes, ts, from: 0, to: half, shift, pos: pos0, bts, bidx, bcode, carry: cols, bcarry };
  await both(par, 'scatter', s0, { ...s0, from: half, to: n, pos: pos1 });
  return {
    par,
    shift,
    nb,
    boff,
    bts,
    bidx,
    bcode,
    bcarry,
    min: Math.min(h0.stats[0], h1.stats[0]),
    max: Math.max(h0.stats[1], h1.stats[1]),
    ints: h0.stats[2] === 1 && h1.stats[2] === 1,
  };
}

/** First bucket of the second thread's half (by event count). */
export function splitBuckets(b: Buckets): number {
  if (!b.par) return b.nb;
  const kept = b.boff[b.nb];
  let split = 0;
  while (split < b.nb && b.boff[split] < kept / 2) split++;
  return split;
}

/**
 * Sorts events. Rows with a negative code or a NaN time are dropped. Large inputs are split between
 * the main thread and one worker (rows for the histogram and scatter, buckets for the radix passes).
 * @param codes entity code per row (0…nCodes-1, or -1)
 * @param carry columns to reorder alongside (same length as codes)
 * @param parallelMinEvents inputs with at least this many rows use the worker (EngineOptions)
 */
export async function sortEvents(
  codes: Int32Array,
  nCodes: number,
  ts: Float64Array,
  created: Float64Array | null,
  carry: readonly Float64Array[],
  parallelMinEvents: number,
): Promise<SortedEvents> {
  const bk = await bucketize(codes, nCodes, ts, [...carry, ...(created ? [created] : [])], parallelMinEvents);
  const { par, shift, nb, boff, bts, bidx, bcode, bcarry, min, max, ints } = bk;
  const f64 = par ? sharedF64 : (k: number) => new Float64Array(k);
  const i32 = par ? sharedI32 : (k: number) => new Int32Array(k);
  const kept = boff[nb];
  // per bucket: radix on time, counting on the code's low bits, gather outputs
  const range = max - min;
  const radixOk = kept > 0 && ints && range < 2 ** 53;
  const offsets = i32(nCodes + 1);
  offsets[nCodes] = kept;
  const order = i32(kept);
  const outTs = f64(kept);
  const outCarry = bcarry.map(() => f64(kept));
  const split = splitBuckets(bk);
  const k0 = {
    b0: 0,
    b1: split,
    boff,
    shift,
    nCodes,
    min,
    bits: radixOk ? Math.max(1, Math.ceil(Math.log2(range + 1))) : 0,
    small: range < 2 ** 32,
    bts,
    bidx,
    bcode,
    bcarry,
    offsets,
    order,
    outTs,
    outCarry,
  };
  await both(par, 'bucket', k0, { ...k0, b0: split, b1: nb });
  const carried = outCarry.slice(0, carry.length);
  const outCreated = created ? outCarry[carry.length] : null;
  if (outCreated) breakTies(offsets, nCodes, outTs, outCreated, order, carried);
  return { order, offsets, ts: outTs, carried, created: outCreated };
}

/** Runs slice 0 on this thread and slice 1 on the worker (or both here when not parallel). */
export async function both<K extends KernelName>(
  par: boolean,
  k: K,
  a0: Parameters<(typeof KERNELS)[K]>[0],
  a1: Parameters<(typeof KERNELS)[K]>[0],
): Promise<void> {
  const f = KERNELS[k] as (a: unknown) => void;
  if (!par) {
    f(a0);
    f(a1);
    return;
  }
  const other = runOnWorker(k, a1);
  try {
    f(a0);
  } finally {
    await other;
  }
}

/** Within each run of equal (entity, time), orders by created time (missing = oldest), then input order. */
function breakTies(
  offsets: Int32Array,
  nCodes: number,
  ts: Float64Array,
  created: Float64Array,
  order: Int32Array,
  carried: Float64Array[],
): void {
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
