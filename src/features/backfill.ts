/**
 * Backfill output: the tiles of an aggregation view as an Arrow table — join keys, `tile_start`
 * (the tile covers (tile_start, tile_start + tile]), and per input group the partial states:
 * `<input>__count`, `__sum`, `__sumsq`, `__min`, `__max`, `__first`, `__first_ts`, `__last`, `__last_ts`
 * (only those the view's functions need). `<input>` is the column name (`rows` for row counts), with
 * `__where<i>` appended for filtered groups. last_n and count_distinct states stay in memory.
 */
import * as A from 'apache-arrow';
import { numericVector, vectorOf } from './build.js';
import { dtypeOfArrow } from './dtypes.js';
import type { ViewPlan } from './plan.js';
import type { KeyIndex } from './keys.js';
import type { TileStore } from './tiles.js';

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

export function tilesTable(plan: ViewPlan, set: TileSet, range: BackfillRange = {}): A.Table {
  const { tiles, tileOff } = set;
  const idx = set;
  const T = plan.tileMs;
  const lo = range.start ? range.start.getTime() : -Infinity;
  const hi = range.end ? range.end.getTime() : Infinity;
  const nCodes = idx.keys.size;
  // selected tile slots and their entity codes (all tiles, in slot order, when there is no range)
  const all = lo === -Infinity && hi === Infinity;
  let m = 0;
  const keep = all ? null : new Int32Array(tiles.m);
  const codeOf = new Int32Array(tiles.m);
  for (let c = 0; c < nCodes; c++) {
    for (let s = tileOff[c]; s < tileOff[c + 1]; s++) {
      const start = tiles.idx[s] * T;
      if (all || (start + T > lo && start < hi)) {
        if (keep) keep[m] = s;
        codeOf[m++] = c;
      }
    }
  }
  const cols: Record<string, A.Vector> = {};
  idx.keys.columns.forEach((k, j) => {
    const values = idx.keys.values[j];
    const dtype = dtypeOfArrow(idx.table.getChild(k)!.type);
    if (typeof values[0] === 'number' || values.length === 0) {
      const out = new Float64Array(m);
      for (let r = 0; r < m; r++) out[r] = values[codeOf[r]] as number;
      cols[k] = numericVector(out, null, dtype);
    } else {
      cols[k] = vectorOf(Array.from(codeOf.subarray(0, m), (c) => values[c]), dtype);
    }
  });
  const startV = new Float64Array(m);
  for (let r = 0; r < m; r++) startV[r] = tiles.idx[keep ? keep[r] : r] * T;
  cols.tile_start = numericVector(startV, null, 'timestamp');
  plan.groups.forEach((g, gi) => {
    const t = tiles.g[gi];
    const label = groupLabel(plan, gi);
    const pick = (arr: Float64Array, needsCount: boolean): { v: Float64Array; valid: Uint8Array | null } => {
      let v: Float64Array;
      if (keep) {
        v = new Float64Array(m);
        for (let r = 0; r < m; r++) v[r] = arr[keep[r]];
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
    add('sumsq', t.sumsq, 'float64', false);
    add('min', t.min, 'float64', true);
    add('max', t.max, 'float64', true);
    add('first', t.firstV, inDtype, true);
    add('first_ts', t.firstT, 'timestamp', true);
    add('last', t.lastV, inDtype, true);
    add('last_ts', t.lastT, 'timestamp', true);
  });
  return new A.Table(cols);
}
