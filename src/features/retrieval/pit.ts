/**
 * Training-set helpers over the sorted index: entity-ordered row traversal, gathering plain-view
 * columns at matched source rows, and aggregation windows ending at each row's time (inclusive;
 * tiles plus raw edge events, so nothing after the row's time leaks in; empty windows give count 0
 * and null elsewhere). Plain-view matching itself lives in probe.ts, short windows in pairs.ts.
 */
import type * as A from 'apache-arrow';
import { throwIfAborted } from '../../errors.js';
import { numericVector, vectorOf } from '../engine/build.js';
import { int64Exact, readNumeric } from '../engine/columns.js';
import { Composer, type EntityRange } from '../engine/compose.js';
import { categoryOf } from '../definitions/dtypes.js';
import type { TileStrategy } from '../engine/engine.js';
import type { ViewPlan } from '../engine/plan.js';
import { tilesForQueries, type IndexedEvents } from '../engine/series.js';
import type { Aggregation, LongOptions } from '../definitions/types.js';

/**
 * Rows with a known entity, ordered by entity code (stable counting sort), so that lookups walk the
 * sorted events entity by entity instead of jumping around memory.
 */
export function rowsByEntity(rowCodes: Int32Array, nCodes: number): Int32Array {
  const start = new Int32Array(nCodes + 1);
  let known = 0;
  for (let r = 0; r < rowCodes.length; r++) {
    const c = rowCodes[r];
    if (c >= 0) {
      start[c + 1]++;
      known++;
    }
  }
  for (let c = 0; c < nCodes; c++) start[c + 1] += start[c];
  const out = new Int32Array(known);
  for (let r = 0; r < rowCodes.length; r++) {
    const c = rowCodes[r];
    if (c >= 0) out[start[c]++] = r;
  }
  return out;
}

/** Gathers a source column at the given source rows (-1 → null) as a vector of `dtype`. */
export function gatherColumn(table: A.Table, column: string, dtype: string, rows: Int32Array): A.Vector {
  const vec = table.getChild(column)!;
  const n = rows.length;
  const cat = categoryOf(dtype);
  if ((cat === 'int' || cat === 'float' || cat === 'bool' || cat === 'timestamp') && int64Exact(vec)) {
    const num = readNumeric(vec);
    if (num) {
      const values = new Float64Array(n);
      const valid = new Uint8Array(n);
      const src = num.values;
      const srcValid = num.valid;
      for (let r = 0; r < n; r++) {
        const row = rows[r];
        if (row < 0 || (srcValid && !srcValid[row])) continue;
        values[r] = src[row];
        valid[r] = 1;
      }
      return numericVector(values, valid, dtype);
    }
  }
  const values = new Array<unknown>(n);
  for (let r = 0; r < n; r++) values[r] = rows[r] < 0 ? null : vec.get(rows[r]);
  return vectorOf(values, dtype);
}

/** Output buffers for one aggregation. */
export interface AggColumn {
  readonly agg: Aggregation;
  readonly group: number;
  readonly values: Float64Array;
  readonly lists: number[][] | null;
}

/** Every requested aggregation as of each row's time. `want` = aggregation indices in the plan. */
export async function aggregateRows(
  plan: ViewPlan,
  idx: IndexedEvents,
  rowCodes: Int32Array,
  rowTs: Float64Array,
  want: readonly number[],
  tileStrategy: TileStrategy,
  options: LongOptions = {},
): Promise<AggColumn[]> {
  const n = rowCodes.length;
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
  const { offsets } = idx.sorted;
  const built = tilesForQueries(plan, idx, n, tileStrategy);
  const tiles = built?.tiles ?? null;
  const tileOff = built?.tileOff ?? null;
  const range: EntityRange = { e0: 0, e1: 0, t0: 0, t1: 0 };
  let row = 0;
  const emit = (ai: number, v: number | number[]) => {
    const col = cols[ai];
    if (!col) return;
    if (col.lists) col.lists[row] = v as number[];
    else col.values[row] = v as number;
  };
  // rows without a known entity (or time) get the empty-window values
  const empty: (number | number[])[] = [];
  composer.at(idx.ev, tiles, range, 0, (ai, v) => (empty[ai] = v));
  for (let r = 0; r < n; r++) {
    if (rowCodes[r] >= 0 && rowTs[r] === rowTs[r]) continue;
    row = r;
    empty.forEach((v, ai) => emit(ai, Array.isArray(v) ? [...v] : v));
  }
  const order = rowsByEntity(rowCodes, idx.keys.size);
  const CHUNK = 65_536;
  for (let j = 0; j < order.length; j++) {
    if ((j & (CHUNK - 1)) === 0 && j) {
      throwIfAborted(options.signal, 'getHistoricalFeatures');
      options.onProgress?.({ phase: `aggregate ${plan.view.name}`, done: j, total: order.length, unit: 'rows' });
      await new Promise<void>((res) => setImmediate(res));
    }
    row = order[j];
    const t = rowTs[row];
    if (t !== t) continue;
    const c = rowCodes[row];
    range.e0 = offsets[c];
    range.e1 = offsets[c + 1];
    if (tileOff) {
      range.t0 = tileOff[c];
      range.t1 = tileOff[c + 1];
    }
    composer.at(idx.ev, tiles, range, t, emit);
  }
  return cols.filter((c): c is AggColumn => c !== null);
}

/** Arrow vector of an aggregation's results (codes decoded through the group's dictionary). */
export function aggVector(col: AggColumn, dict: unknown[] | null): A.Vector {
  const { agg, values, lists } = col;
  const n = values.length;
  if (lists) {
    const decoded = new Array<unknown>(n);
    for (let r = 0; r < n; r++) decoded[r] = dict ? lists[r].map((c) => dict[c]) : lists[r];
    return vectorOf(decoded, agg.dtype);
  }
  if (agg.function === 'count' || agg.function === 'count_distinct') return numericVector(values, null, 'int64');
  if (dict) {
    const decoded = new Array<unknown>(n);
    for (let r = 0; r < n; r++) decoded[r] = values[r] === values[r] ? dict[values[r]] : null;
    return vectorOf(decoded, agg.dtype);
  }
  const valid = new Uint8Array(n);
  for (let r = 0; r < n; r++) valid[r] = values[r] === values[r] ? 1 : 0;
  return numericVector(values, valid, agg.dtype);
}
