/**
 * Batch indexing of a source table for one view: entity codes, events sorted once by (entity, time,
 * created, input order), per-group input values, and — for aggregation views, on demand — the tiles.
 */
import type * as A from 'apache-arrow';
import { StrataError, throwIfAborted } from '../../errors.js';
import { canonical, readCoded, readTimestamps } from './columns.js';
import type { EventStore } from './compose.js';
import type { TileStrategy } from './engine.js';
import { parseExpr } from '../definitions/expr.js';
import { compileExpr } from '../definitions/expr-filter.js';
import { hashNumber, hashValue } from '../../stats/index.js';
import { KeyIndex } from './keys.js';
import type { ViewPlan } from './plan.js';
import { allocF64 } from './pool.js';
import { sortEvents, type SortedEvents } from './sort.js';
import { TileStore } from './tiles.js';
import type { FeatureView, LongOptions, Source } from '../definitions/types.js';

export interface IndexedEvents {
  readonly table: A.Table;
  readonly keys: KeyIndex;
  readonly sorted: SortedEvents;
  /** Aggregation views: group values in sorted order. */
  readonly ev: EventStore;
  /** Per group: code → value for dictionary-coded inputs. */
  readonly dicts: (unknown[] | null)[];
  /** Materialized tiles (see `tilesFor`); null until first needed. */
  tiles: TileStore | null;
  /** Entity code c owns tiles [tileOff[c], tileOff[c+1]). */
  tileOff: Int32Array | null;
}

export function column(table: A.Table, name: string, what: string): A.Vector {
  const v = table.getChild(name);
  if (!v) {
    throw new StrataError('INVALID_ARGUMENT', `${what}: column ${name} is missing`, {
      column: name,
      hint: `columns present: ${table.schema.fields.map((f) => f.name).join(', ')}`,
    });
  }
  return v;
}

/** Rows passing a `where` filter (SQL three-valued logic: only true passes). */
export function whereMask(table: A.Table, where: string): Uint8Array {
  const expr = parseExpr(where);
  const test = compileExpr(expr);
  const n = table.numRows;
  const cols = new Map<string, unknown[]>();
  const get = (i: number) => (c: string) => {
    let arr = cols.get(c);
    if (!arr) {
      const v = table.getChild(c);
      arr = v ? [...v] : new Array(n).fill(null);
      cols.set(c, arr);
    }
    return arr[i];
  };
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = test(get(i)) === 1 ? 1 : 0;
  return mask;
}

export interface CodedEvents {
  readonly keys: KeyIndex;
  /** Entity code per source row (-1: missing key or duplicate event id). */
  readonly codes: Int32Array;
  readonly ts: Float64Array;
  readonly created: Float64Array | null;
  /** Source rows left out because their join key or event time is null. */
  readonly dropped: number;
}

/**
 * Reports the rows `codeEvents` left out for a null key or time, as a progress event
 * `{ phase: 'dropped <view>', done: <rows>, total: <source rows>, unit: 'events without key or time' }`.
 */
export function reportDropped(view: FeatureView, coded: CodedEvents, options: LongOptions): void {
  if (coded.dropped > 0)
    options.onProgress?.({
      phase: `dropped ${view.name}`,
      done: coded.dropped,
      total: coded.codes.length,
      unit: 'events without key or time',
    });
}

/** Entity codes, event times and created times of a view's source rows (duplicate ids dropped). */
export function codeEvents(view: FeatureView, source: Source, table: A.Table): CodedEvents {
  const what = `source ${source.name} of view ${view.name}`;
  const n = table.numRows;
  const { index: keys, codes } = KeyIndex.build(
    view.entities,
    view.entities.map((k) => column(table, k, what)),
  );
  const ts = readTimestamps(column(table, source.timestampField, what));
  const created = source.createdTimestampField
    ? readTimestamps(column(table, source.createdTimestampField, what))
    : null;
  let dropped = 0;
  for (let i = 0; i < n; i++) if (codes[i] < 0 || ts[i] !== ts[i]) dropped++;
  if (source.idField) {
    const ids = column(table, source.idField, what);
    const seen = new Set<unknown>();
    for (let i = 0; i < n; i++) {
      const id = canonical(ids.get(i));
      if (id === null) continue;
      if (seen.has(id)) codes[i] = -1;
      else seen.add(id);
    }
  }
  return { keys, codes, ts, created, dropped };
}

/** Each group's input per source row (NaN = null or filtered out), and dictionaries of coded inputs. */
export function groupInputs(
  plan: ViewPlan | null,
  table: A.Table,
  what: string,
): { vals: Float64Array[]; dicts: (unknown[] | null)[] } {
  const n = table.numRows;
  const dicts: (unknown[] | null)[] = [];
  const vals: Float64Array[] = [];
  for (const g of plan?.groups ?? []) {
    let v: Float64Array;
    if (g.column === null) {
      v = allocF64(n).fill(1);
      dicts.push(null);
    } else {
      const col = readCoded(column(table, g.column, what));
      if (col.valid || g.where) {
        v = allocF64(n);
        v.set(col.values);
      } else v = col.values;
      if (col.valid) for (let i = 0; i < n; i++) if (!col.valid[i]) v[i] = Number.NaN;
      dicts.push(col.dict);
    }
    if (g.where) {
      const mask = whereMask(table, g.where);
      for (let i = 0; i < n; i++) if (!mask[i]) v[i] = Number.NaN;
    }
    vals.push(v);
  }
  return { vals, dicts };
}

/** count_distinct groups: the hash of each value (through the dictionary for coded inputs). */
export function groupHashes(
  plan: ViewPlan | null,
  vals: readonly Float64Array[],
  dicts: readonly (unknown[] | null)[],
): (Uint32Array | null)[] {
  return (plan?.groups ?? []).map((g, gi) => {
    if (!g.distinct) return null;
    const v = vals[gi];
    const out = new Uint32Array(v.length);
    const dict = dicts[gi];
    const codeHash = dict ? dict.map((x) => hashValue(x)) : null;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === x) out[i] = codeHash ? codeHash[x] : hashNumber(x);
    }
    return out;
  });
}

/** Indexes `table` (a view's source data) for the plan (null plan: plain view). */
export async function indexEvents(
  view: FeatureView,
  plan: ViewPlan | null,
  source: Source,
  table: A.Table,
  parallelMinEvents: number,
  options: LongOptions = {},
): Promise<IndexedEvents> {
  const what = `source ${source.name} of view ${view.name}`;
  const n = table.numRows;
  const coded = codeEvents(view, source, table);
  const { keys, codes, ts, created } = coded;
  reportDropped(view, coded, options);
  const { vals: groupVals, dicts } = groupInputs(plan, table, what);
  throwIfAborted(options.signal, 'indexing');
  options.onProgress?.({ phase: 'sort', done: 0, total: n, unit: 'events' });
  const sorted = await sortEvents(codes, keys.size, ts, created, groupVals, parallelMinEvents);
  options.onProgress?.({ phase: 'sort', done: n, total: n, unit: 'events' });
  const hash = groupHashes(plan, sorted.carried, dicts);
  const ev: EventStore = { ts: sorted.ts, vals: sorted.carried, hash };
  return { table, keys, sorted, ev, dicts, tiles: null, tileOff: null };
}

/** The view's materialized tiles, built once per index. */
export function tilesFor(plan: ViewPlan, idx: IndexedEvents): { tiles: TileStore; tileOff: Int32Array } {
  if (!idx.tiles || !idx.tileOff) Object.assign(idx, buildTiles(plan, idx.ev, idx.sorted.offsets, idx.keys.size));
  return { tiles: idx.tiles!, tileOff: idx.tileOff! };
}

/**
 * Tiles for `lookups` window queries, or null to compute tile partials on the fly from the sorted
 * raw events (bit-identical: each tile's events are still summed on their own, in order, then
 * added). On the fly wins when windows hold few events; lifetime windows always use tiles.
 * `strategy` other than 'auto' forces one or the other (EngineOptions.tileStrategy).
 */
export function tilesForQueries(
  plan: ViewPlan,
  idx: IndexedEvents,
  lookups: number,
  strategy: TileStrategy,
): { tiles: TileStore; tileOff: Int32Array } | null {
  if (idx.tiles || strategy === 'materialize') return tilesFor(plan, idx);
  if (strategy === 'virtual') return null;
  if (plan.hasLifetime) return tilesFor(plan, idx);
  const ts = idx.sorted.ts;
  const n = ts.length;
  if (n === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (let c = 0; c < idx.keys.size; c++) {
    const lo = idx.sorted.offsets[c];
    const hi = idx.sorted.offsets[c + 1];
    if (hi > lo) {
      if (ts[lo] < min) min = ts[lo];
      if (ts[hi - 1] > max) max = ts[hi - 1];
    }
  }
  const perWindow = (n / Math.max(1, idx.keys.size)) * Math.min(1, plan.maxWindowMs / Math.max(1, max - min));
  // scanning raw events costs ~perWindow per lookup; tiles cost one pass over all events
  return perWindow <= 64 && lookups * perWindow <= 4 * n ? null : tilesFor(plan, idx);
}

/**
 * Tiles from sorted events: pass 1 counts them (a new tile per entity and tile index), pass 2
 * allocates exactly and fills every group's state arrays in event order (one fused loop when all
 * groups need only count/sum/m2/min/max).
 */
export function buildTiles(
  plan: ViewPlan,
  ev: EventStore,
  offsets: Int32Array,
  nCodes: number,
): { tiles: TileStore; tileOff: Int32Array } {
  const T = plan.tileMs;
  const ts = ev.ts;
  let m = 0;
  for (let c = 0; c < nCodes; c++) {
    let prev = Number.NaN;
    for (let i = offsets[c], end = offsets[c + 1]; i < end; i++) {
      const k = Math.ceil(ts[i] / T) - 1;
      if (k !== prev) {
        m++;
        prev = k;
      }
    }
  }
  const tiles = new TileStore(plan, m);
  tiles.m = m;
  const tileOff = new Int32Array(nCodes + 1);
  const idx = tiles.idx;
  const simple = plan.groups.every((g) => !g.first && !g.last && !g.lastN && !g.distinct);
  for (const t of tiles.g) {
    t.min?.fill(Infinity);
    t.max?.fill(-Infinity);
  }
  if (simple && plan.groups.length === 1) {
    const { cnt, sum, m2, min, max } = tiles.g[0];
    const vals = ev.vals[0];
    let s = -1;
    for (let c = 0; c < nCodes; c++) {
      tileOff[c] = s + 1;
      let prev = Number.NaN;
      for (let i = offsets[c], end = offsets[c + 1]; i < end; i++) {
        const k = Math.ceil(ts[i] / T) - 1;
        if (k !== prev) {
          idx[++s] = k;
          prev = k;
        }
        const v = vals[i];
        if (v !== v) continue;
        const c = cnt[s]++;
        if (m2) {
          const d = c ? v - sum![s] / c : 0;
          sum![s] += v;
          m2[s] += d * (v - sum![s] / (c + 1));
        } else if (sum) sum[s] += v;
        if (min && v < min[s]) min[s] = v;
        if (max && v > max[s]) max[s] = v;
      }
    }
  } else {
    const ng = plan.groups.length;
    let s = -1;
    for (let c = 0; c < nCodes; c++) {
      tileOff[c] = s + 1;
      let prev = Number.NaN;
      for (let i = offsets[c], end = offsets[c + 1]; i < end; i++) {
        const k = Math.ceil(ts[i] / T) - 1;
        if (k !== prev) {
          idx[++s] = k;
          prev = k;
        }
        for (let g = 0; g < ng; g++) tiles.add(s, g, ev.vals[g][i], ts[i], ev.hash[g] ? ev.hash[g]![i] : 0);
      }
    }
  }
  tileOff[nCodes] = m;
  return { tiles, tileOff };
}
