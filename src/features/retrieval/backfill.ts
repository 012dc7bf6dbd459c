/**
 * Backfill output: the tiles of an aggregation view as an Arrow table — join keys, `tile_start`
 * (the tile covers (tile_start, tile_start + tile]), and per input group the partial states:
 * `<input>__count`, `__sum`, `__m2` (sum of squared deviations from the tile's mean), `__min`, `__max`, `__first`, `__first_ts`, `__last`, `__last_ts`
 * (only those the view's functions need). `<input>` is the column name (`rows` for row counts), with
 * `__where<i>` appended for filtered groups. last_n and count_distinct states stay in memory.
 */
import * as A from 'apache-arrow';
import { numericVector, setInt64, vectorOf } from '../engine/build.js';
import { categoryOf, dtypeOfArrow } from '../definitions/dtypes.js';
import type { TableDtype } from '../definitions/types.js';
import type { ViewPlan } from '../engine/plan.js';
import type { KeyIndex } from '../engine/keys.js';
import type { TileStore } from '../engine/tiles.js';

export interface BackfillRange {
  /** Keep tiles ending after this time. */
  readonly start?: Date;
  /** Keep tiles starting before this time. */
  readonly end?: Date;
}

export function groupLabel(plan: ViewPlan, gi: number): string {
  const g = plan.groups[gi];
  return `${g.column ?? 'rows'}${g.where ? `__where${gi}` : ''}`;
}

export interface TileSet {
  readonly keys: KeyIndex;
  /** The source table (for the key columns' types). */
  readonly table: A.Table;
  readonly tiles: TileStore;
  readonly tileOff: Int32Array;
}

/**
 * The tiles of `set` in `range`, as a table; with `entity`, only the entities it accepts (a shard's:
 * their tiles are whole, the same rows an unsharded backfill has for them).
 */
export function tilesTable(
  plan: ViewPlan,
  set: TileSet,
  range: BackfillRange = {},
  entity: ((key: Record<string, unknown>) => boolean) | null = null,
): A.Table {
  const { tiles, tileOff, keys } = set;
  const T = plan.tileMs;
  const lo = range.start ? range.start.getTime() : -Infinity;
  const hi = range.end ? range.end.getTime() : Infinity;
  const nCodes = keys.size;
  // the selected tile slots (null: all, in slot order) and each entity's run of output rows
  const all = lo === -Infinity && hi === Infinity && !entity;
  const keep = all ? null : new Int32Array(tiles.m);
  let runOff = tileOff;
  if (keep) {
    runOff = new Int32Array(nCodes + 1);
    let k = 0;
    for (let c = 0; c < nCodes; c++) {
      if (entity && !entity(keys.keyOf(c))) {
        runOff[c + 1] = k;
        continue;
      }
      for (let s = tileOff[c]; s < tileOff[c + 1]; s++) {
        const start = tiles.idx[s] * T;
        if (start + T > lo && start < hi) keep[k++] = s;
      }
      runOff[c + 1] = k;
    }
  }
  const m = runOff[nCodes];
  const cols: Record<string, A.Vector> = {};
  keys.columns.forEach((k, j) => {
    cols[k] = repeatRuns(keys.values[j], runOff, dtypeOfArrow(set.table.getChild(k)!.type as A.DataType));
  });
  // tile_start written as int64 words (no float64 copy to convert)
  const starts = new BigInt64Array(m);
  const words = new Int32Array(starts.buffer);
  for (let r = 0; r < m; r++) setInt64(words, r, tiles.idx[keep ? keep[r] : r] * T);
  cols.tile_start = A.makeVector(A.makeData({ type: new A.TimestampMillisecond(), length: m, data: starts }));
  plan.groups.forEach((g, gi) => {
    const t = tiles.g[gi];
    const label = groupLabel(plan, gi);
    const pick = (arr: Float64Array, needsCount: boolean): { v: Float64Array; valid: Uint8Array | null } => {
      let v: Float64Array;
      if (keep) {
        v = new Float64Array(m);
        for (let r = 0; r < m; r++) v[r] = arr[keep[r]];
      } else if (arr.buffer.byteLength > 2 * m * Float64Array.BYTES_PER_ELEMENT) {
        // a work array sized for the events: copy, so the output does not keep it alive
        v = arr.slice(0, m);
      } else v = arr.subarray(0, m);
      let valid: Uint8Array | null = null;
      if (needsCount) {
        for (let r = 0; r < m; r++) {
          if (t.cnt[keep ? keep[r] : r] === 0) {
            valid = new Uint8Array(m);
            for (let q = 0; q < m; q++) valid[q] = t.cnt[keep ? keep[q] : q] > 0 ? 1 : 0;
            break;
          }
        }
      }
      return { v, valid };
    };
    const add = (suffix: string, arr: Float64Array | null, dtype: string, nullWhenEmpty: boolean) => {
      if (!arr) return;
      const { v, valid } = pick(arr, nullWhenEmpty);
      cols[`${label}__${suffix}`] = numericVector(v, valid, dtype);
    };
    const inDtype = g.coded ? 'int64' : 'float64';
    add('count', t.cnt, 'int64', false);
    add('sum', t.sum, 'float64', false);
    add('m2', t.m2, 'float64', false);
    add('min', t.min, 'float64', true);
    add('max', t.max, 'float64', true);
    add('first', t.firstV, inDtype, true);
    add('first_ts', t.firstT, 'timestamp', true);
    add('last', t.lastV, inDtype, true);
    add('last_ts', t.lastT, 'timestamp', true);
  });
  return new A.Table(cols);
}

/** A key column: entity c's value repeated over output rows [runOff[c], runOff[c + 1]). */
function repeatRuns(values: readonly unknown[], runOff: Int32Array, dtype: TableDtype): A.Vector {
  const n = runOff.length - 1;
  const m = runOff[n];
  if (typeof values[0] === 'number' && categoryOf(dtype) !== 'bool') {
    // each entity's value once in the column's Arrow type, then one fill per run
    const once = numericVector(Float64Array.from(values as number[]), null, dtype);
    const src = once.data[0].values as Int32Array | Float64Array | Float32Array | BigInt64Array;
    const out = new (src.constructor as new (length: number) => typeof src)(m);
    for (let c = 0; c < n; c++) if (runOff[c + 1] > runOff[c]) out.fill(src[c] as never, runOff[c], runOff[c + 1]);
    return A.makeVector(A.makeData({ type: once.type as A.DataType, length: m, data: out } as never));
  }
  const rows = new Array<unknown>(m);
  for (let c = 0; c < n; c++) for (let r = runOff[c]; r < runOff[c + 1]; r++) rows[r] = values[c];
  return vectorOf(rows, dtype);
}
