/**
 * Point-in-time lookup for plain views without sorting the events by time: the (few) lookup rows
 * are sorted by (entity, time); events are only grouped into buckets of entities; each event then
 * probes its entity's rows once (binary search, cache-resident per bucket) and becomes a candidate
 * at the first row at or after it; a sweep carries the best candidate forward per entity.
 * Same rules and tie-breaks as the sorted index: the latest (time, created, input row) with
 * time <= row time, and >= row time - ttl when set.
 */
import { rowsByEntity } from '../retrieval/pit.js';
import { sharedF64, sharedI32 } from './pool.js';
import { both, bucketize, splitBuckets } from './sort.js';
import type { CodedEvents } from './series.js';

/** Rows sorted by (code, time): offsets per code, times, and the original row of each position. */
export function sortRows(
  rowCodes: Int32Array,
  rowTs: Float64Array,
  nCodes: number,
): { rowOff: Int32Array; ts: Float64Array; row: Int32Array } {
  const byEntity = rowsByEntity(rowCodes, nCodes);
  const m = byEntity.length;
  const rowOff = new Int32Array(nCodes + 1);
  for (let j = 0; j < m; j++) rowOff[rowCodes[byEntity[j]] + 1]++;
  for (let c = 0; c < nCodes; c++) rowOff[c + 1] += rowOff[c];
  const ts = new Float64Array(m);
  const row = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    row[j] = byEntity[j];
    const t = rowTs[byEntity[j]];
    ts[j] = t === t ? t : -Infinity;
  }
  for (let c = 0; c < nCodes; c++) {
    const lo = rowOff[c];
    const hi = rowOff[c + 1];
    if (hi - lo < 2) continue;
    if (hi - lo > 32) {
      const idx = Array.from({ length: hi - lo }, (_, k) => lo + k);
      idx.sort((x, y) => ts[x] - ts[y] || row[x] - row[y]);
      const t2 = idx.map((k) => ts[k]);
      const r2 = idx.map((k) => row[k]);
      ts.set(t2, lo);
      row.set(r2, lo);
      continue;
    }
    for (let k = lo + 1; k < hi; k++) {
      const tv = ts[k];
      const rv = row[k];
      let q = k - 1;
      while (q >= lo && (ts[q] > tv || (ts[q] === tv && row[q] > rv))) {
        ts[q + 1] = ts[q];
        row[q + 1] = row[q];
        q--;
      }
      ts[q + 1] = tv;
      row[q + 1] = rv;
    }
  }
  return { rowOff, ts, row };
}

/** Source row matched by each lookup row, or -1. */
export async function latestRowsByProbe(
  ev: CodedEvents,
  rowCodes: Int32Array,
  rowTs: Float64Array,
  ttlMs: number | undefined,
  parallelMinEvents: number,
): Promise<Int32Array> {
  const nCodes = ev.keys.size;
  const rows = sortRows(rowCodes, rowTs, nCodes);
  const m = rows.row.length;
  const bk = await bucketize(ev.codes, nCodes, ev.ts, ev.created ? [ev.created] : [], parallelMinEvents);
  const f64 = bk.par ? sharedF64 : (k: number) => new Float64Array(k);
  const i32 = bk.par ? sharedI32 : (k: number) => new Int32Array(k);
  const rowOff = i32(nCodes + 1);
  rowOff.set(rows.rowOff);
  const rowTsSorted = f64(m);
  rowTsSorted.set(rows.ts);
  const bestTs = f64(m).fill(-Infinity);
  const bestCr = f64(m).fill(-Infinity);
  const bestIdx = i32(m).fill(-1);
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
    rowTs: rowTsSorted,
    bestTs,
    bestCr,
    bestIdx,
  };
  await both(bk.par, 'probe', a0, { ...a0, b0: split, b1: bk.nb });
  // sweep: the best candidate at or before each row, per entity
  const out = new Int32Array(rowCodes.length).fill(-1);
  const ttl = ttlMs ?? Infinity;
  for (let c = 0; c < nCodes; c++) {
    let t = -Infinity;
    let cr = -Infinity;
    let idx = -1;
    for (let j = rows.rowOff[c]; j < rows.rowOff[c + 1]; j++) {
      const bt = bestTs[j];
      if (bestIdx[j] >= 0 && (bt > t || (bt === t && (bestCr[j] > cr || (bestCr[j] === cr && bestIdx[j] > idx))))) {
        t = bt;
        cr = bestCr[j];
        idx = bestIdx[j];
      }
      const rt = rows.ts[j];
      if (idx >= 0 && rt !== -Infinity && t >= rt - ttl) out[rows.row[j]] = idx;
    }
  }
  return out;
}
