/**
 * Backfill straight to tiles (views whose groups need only count/sum/m2/min/max): events are
 * bucketed by entity, then per bucket radix-sorted by tile index — fewer bits than the event time —
 * and each tile's events are put in (time, created, input) order before folding, so the tiles equal
 * the sorted path's and streaming's bit for bit. Runs on two threads for large inputs.
 */
import type { ViewPlan } from './plan.js';
import { sharedF64, sharedI32 } from './pool.js';
import type { CodedEvents } from './series.js';
import { both, bucketize, splitBuckets } from './sort.js';
import { TileStore } from './tiles.js';

export function isSimplePlan(plan: ViewPlan): boolean {
  return plan.groups.every((g) => !g.first && !g.last && !g.lastN && !g.distinct);
}

export async function buildTilesDirect(
  plan: ViewPlan,
  coded: CodedEvents,
  vals: readonly Float64Array[],
  parallelMinEvents: number,
): Promise<{ tiles: TileStore; tileOff: Int32Array }> {
  const nCodes = coded.keys.size;
  const T = plan.tileMs;
  const bk = await bucketize(
    coded.codes,
    nCodes,
    coded.ts,
    [...vals, ...(coded.created ? [coded.created] : [])],
    parallelMinEvents,
  );
  const kept = bk.boff[bk.nb];
  const f64 = bk.par ? sharedF64 : (k: number) => new Float64Array(k);
  const i32 = bk.par ? sharedI32 : (k: number) => new Int32Array(k);
  const kMin = kept ? Math.ceil(bk.min / T) - 1 : 0;
  const range = kept ? Math.ceil(bk.max / T) - 1 - kMin : 0;
  const ng = plan.groups.length;
  const state = (on: (gi: number) => boolean) => plan.groups.map((_, gi) => (on(gi) ? f64(kept) : f64(0)));
  const a0 = {
    b0: 0,
    b1: splitBuckets(bk),
    boff: bk.boff,
    shift: bk.shift,
    nCodes,
    bts: bk.bts,
    bidx: bk.bidx,
    bcode: bk.bcode,
    bcarry: bk.bcarry,
    hasCreated: coded.created !== null,
    tileMs: T,
    kMin,
    bits: range < 2 ** 32 ? Math.max(1, Math.ceil(Math.log2(range + 1))) : 0,
    tileCount: i32(bk.nb),
    tileIdx: f64(kept),
    tileCode: i32(kept),
    cnt: state(() => true),
    sum: state((gi) => plan.groups[gi].sum || plan.groups[gi].m2),
    m2: state((gi) => plan.groups[gi].m2),
    min: state((gi) => plan.groups[gi].min),
    max: state((gi) => plan.groups[gi].max),
  };
  await both(bk.par, 'tile', a0, { ...a0, b0: a0.b1, b1: bk.nb });
  // compact the per-bucket runs in place (each run moves left), then wrap the arrays
  const tileOff = new Int32Array(nCodes + 1);
  let at = 0;
  const all = [a0.tileIdx, ...a0.cnt, ...a0.sum, ...a0.m2, ...a0.min, ...a0.max].filter((x) => x.length > 0);
  for (let b = 0; b < bk.nb; b++) {
    const from = bk.boff[b];
    const len = a0.tileCount[b];
    for (let s = from; s < from + len; s++) tileOff[a0.tileCode[s] + 1]++;
    if (at !== from) for (const arr of all) arr.copyWithin(at, from, from + len);
    at += len;
  }
  for (let c = 0; c < nCodes; c++) tileOff[c + 1] += tileOff[c];
  const tiles = TileStore.wrap(plan, at, a0.tileIdx, a0);
  void ng;
  return { tiles, tileOff };
}
