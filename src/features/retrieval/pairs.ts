/**
 * Training-set windows without sorting all events: when the windows are short next to the data
 * (few events per row window), each event is paired with the lookup rows whose windows can hold it
 * (row time in [event time, event time + reach)); each row's few events are then sorted by
 * (time, created, input row) and composed with the same code as the sorted path — left edge, tile
 * partials, right edge — so the values are identical. Too many pairs → null (use the sorted index).
 */
import { throwIfAborted } from '../../errors.js';
import { Composer, type EntityRange, type EventStore } from '../engine/compose.js';
import type { AggColumn } from './pit.js';
import type { ViewPlan } from '../engine/plan.js';
import { sharedF64, sharedI32 } from '../engine/pool.js';
import { sortRows } from '../engine/probe.js';
import type { CodedEvents } from '../engine/series.js';
import { both, bucketize, splitBuckets } from '../engine/sort.js';
import type { LongOptions } from '../definitions/types.js';

/** How far back a row at time t may need events, over all of the plan's windows (Infinity: lifetime). */
export function reachOf(plan: ViewPlan): number {
  let reach = 0;
  for (const w of plan.windows) {
    if (w.kind === 'lifetime') return Infinity;
    reach = Math.max(reach, w.kind === 'hopping' ? w.sizeMs + w.hopMs! : w.sizeMs);
  }
  return reach;
}

export interface PairInputs {
  readonly coded: CodedEvents;
  readonly vals: readonly Float64Array[];
  readonly hashes: readonly (Uint32Array | null)[];
  readonly dicts: readonly (unknown[] | null)[];
}

/** Sorts one row's pairs [lo, hi) by (time, created, input row). */
function sortPairs(ev: Int32Array, ts: Float64Array, cr: Float64Array, lo: number, hi: number): void {
  for (let k = lo + 1; k < hi; k++) {
    const e = ev[k];
    const t = ts[k];
    const c = cr[k];
    let q = k - 1;
    while (q >= lo && (ts[q] > t || (ts[q] === t && (cr[q] > c || (cr[q] === c && ev[q] > e))))) {
      ev[q + 1] = ev[q];
      ts[q + 1] = ts[q];
      cr[q + 1] = cr[q];
      q--;
    }
    ev[q + 1] = e;
    ts[q + 1] = t;
    cr[q + 1] = c;
  }
}

export async function aggregateByPairs(
  plan: ViewPlan,
  inputs: PairInputs,
  rowCodes: Int32Array,
  rowTs: Float64Array,
  want: readonly number[],
  parallelMinEvents: number,
  options: LongOptions = {},
): Promise<AggColumn[] | null> {
  const reach = reachOf(plan);
  if (!Number.isFinite(reach)) return null;
  const { coded } = inputs;
  const nCodes = coded.keys.size;
  const n = rowCodes.length;
  const rows = sortRows(rowCodes, rowTs, nCodes);
  const m = rows.row.length;
  const bk = await bucketize(coded.codes, nCodes, coded.ts, coded.created ? [coded.created] : [], parallelMinEvents);
  throwIfAborted(options.signal, 'getHistoricalFeatures');
  const i32 = bk.par ? sharedI32 : (k: number) => new Int32Array(k);
  const f64 = bk.par ? sharedF64 : (k: number) => new Float64Array(k);
  const rowOff = i32(nCodes + 1);
  rowOff.set(rows.rowOff);
  const rowTsS = f64(m);
  rowTsS.set(rows.ts);
  const pos = i32(m);
  const split = splitBuckets(bk);
  const a0 = {
    b0: 0,
    b1: split,
    boff: bk.boff,
    bts: bk.bts,
    bidx: bk.bidx,
    bcode: bk.bcode,
    bcreated: bk.bcarry[0] ?? f64(0),
    rowOff,
    rowTs: rowTsS,
    reach,
    mode: 0,
    pos,
    pairEv: i32(0),
    pairTs: f64(0),
    pairCr: f64(0),
  };
  await both(bk.par, 'pair', a0, { ...a0, b0: split, b1: bk.nb });
  const pairOff = new Int32Array(m + 1);
  for (let j = 0; j < m; j++) pairOff[j + 1] = pairOff[j] + pos[j];
  const total = pairOff[m];
  // each pair costs about what sorting a few events would: give up when they outnumber the events
  if (total > Math.max(coded.codes.length, 1_000_000)) return null;
  pos.set(pairOff.subarray(0, m));
  const pairEv = i32(total);
  const pairTs = f64(total);
  const pairCr = f64(total);
  const f0 = { ...a0, mode: 1, pairEv, pairTs, pairCr };
  await both(bk.par, 'pair', f0, { ...f0, b0: split, b1: bk.nb });
  for (let j = 0; j < m; j++)
    if (pairOff[j + 1] - pairOff[j] > 1) sortPairs(pairEv, pairTs, pairCr, pairOff[j], pairOff[j + 1]);
  const store: EventStore = {
    ts: pairTs,
    vals: inputs.vals.map((v) => {
      const out = new Float64Array(total);
      for (let k = 0; k < total; k++) out[k] = v[pairEv[k]];
      return out;
    }),
    hash: inputs.hashes.map((h) => {
      if (!h) return null;
      const out = new Uint32Array(total);
      for (let k = 0; k < total; k++) out[k] = h[pairEv[k]];
      return out;
    }),
  };
  const cols: (AggColumn | null)[] = plan.aggs.map((ap, i) =>
    want.includes(i)
      ? {
          agg: ap.agg,
          group: ap.group,
          values: new Float64Array(n),
          lists: ap.agg.function === 'last_n' ? new Array(n) : null,
        }
      : null,
  );
  const composer = new Composer(plan);
  let row = 0;
  const emit = (ai: number, v: number | number[]) => {
    const col = cols[ai];
    if (!col) return;
    if (col.lists) col.lists[row] = v as number[];
    else col.values[row] = v as number;
  };
  const r: EntityRange = { e0: 0, e1: 0, t0: 0, t1: 0 };
  const empty: (number | number[])[] = [];
  composer.at(store, null, r, 0, (ai, v) => (empty[ai] = v));
  const done = new Uint8Array(n);
  for (let j = 0; j < m; j++) {
    row = rows.row[j];
    const t = rowTs[row];
    if (t !== t) continue;
    r.e0 = pairOff[j];
    r.e1 = pairOff[j + 1];
    composer.at(store, null, r, t, emit);
    done[row] = 1;
  }
  for (row = 0; row < n; row++) if (!done[row]) empty.forEach((v, ai) => emit(ai, Array.isArray(v) ? [...v] : v));
  return cols.filter((c): c is AggColumn => c !== null);
}
