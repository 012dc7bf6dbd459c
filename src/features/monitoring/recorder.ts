/**
 * Per-feature statistics recorded as a job goes: one `ColumnStatistics` per feature whose dtype has
 * statistics (numbers and timestamps → numeric; strings and booleans → categorical; fixed-size
 * vectors such as `float32[512]` → embedding), fed row by row or column by column. `list<x>` and
 * other dtypes are left out.
 */
import type * as A from 'apache-arrow';
import { ColumnStatistics } from '../../stats/statistics.js';
import type { ColumnStatsKind } from '../../stats/column.js';
import { categoryOf, dtypeOfArrow, listElement } from '../definitions/dtypes.js';
import type { FeatureView, TableDtype } from '../definitions/types.js';
import type { StatisticsRunRecord } from './runs.js';

/** The statistics kind (and vector dimension) of a feature dtype, or undefined when it has none. */
export function statsKindOf(dtype: TableDtype): { kind: ColumnStatsKind; dim?: number } | undefined {
  switch (categoryOf(dtype)) {
    case 'int':
    case 'float':
    case 'timestamp':
      return { kind: 'numeric' };
    case 'string':
    case 'bool':
      return { kind: 'categorical' };
    case 'list': {
      const m = /\[\s*(\d+)\s*\]$/.exec(dtype);
      const el = listElement(dtype);
      if (m && Number(m[1]) > 0 && el && /^(float|int|uint)/.test(el)) return { kind: 'embedding', dim: Number(m[1]) };
      return undefined;
    }
    default:
      return undefined;
  }
}

export class FeatureStatsRecorder {
  rows = 0;
  readonly #names: string[] = [];
  readonly #stats: ColumnStatistics[] = [];
  readonly #numeric: boolean[] = [];

  constructor(features: readonly { readonly name: string; readonly dtype: TableDtype }[]) {
    for (const f of features) {
      const k = statsKindOf(f.dtype);
      if (!k) continue;
      this.#names.push(f.name);
      this.#stats.push(ColumnStatistics.create(k.kind, k.dim ? { dim: k.dim } : {}));
      this.#numeric.push(k.kind === 'numeric');
    }
  }

  /** A recorder for every column of `table` except `skip` (dtypes from the Arrow types). */
  static forTable(table: A.Table, skip: readonly string[]): FeatureStatsRecorder {
    return new FeatureStatsRecorder(
      table.schema.fields
        .filter((f) => !skip.includes(f.name))
        .map((f) => ({ name: f.name, dtype: dtypeOfArrow(f.type as A.DataType) })),
    );
  }

  /** Adds one row of feature values (missing features count as nulls). */
  addRow(values: Readonly<Record<string, unknown>>): void {
    this.rows++;
    for (let i = 0; i < this.#names.length; i++) {
      const v = values[this.#names[i]];
      this.#stats[i].add(this.#numeric[i] && v instanceof Date ? v.getTime() : v);
    }
  }

  /** Adds every row of a table's columns (the recorder's features, by name). */
  addTable(table: A.Table): void {
    this.rows += table.numRows;
    for (let i = 0; i < this.#names.length; i++) {
      const col = table.getChild(this.#names[i]);
      const s = this.#stats[i];
      if (!col) {
        for (let r = 0; r < table.numRows; r++) s.add(null);
        continue;
      }
      if (this.#numeric[i] && col.nullCount === 0) {
        const arr = col.toArray() as ArrayLike<number | bigint>;
        if (ArrayBuffer.isView(arr)) {
          for (let r = 0; r < arr.length; r++) s.add(arr[r]);
          continue;
        }
      }
      for (let r = 0; r < table.numRows; r++) {
        const v: unknown = col.get(r);
        if (this.#numeric[i] && v instanceof Date) s.add(v.getTime());
        else if (v && typeof v === 'object' && 'toArray' in v) s.add((v as A.Vector).toArray());
        else s.add(v);
      }
    }
  }

  /** Feature name → statistics. */
  features(): Record<string, ColumnStatistics> {
    return Object.fromEntries(this.#names.map((n, i) => [n, this.#stats[i]]));
  }
}

/**
 * The `training` runs of a training set: per requested view, the statistics of its feature columns
 * (`outNames`: `view:feature` → the column it became), keyed by feature name.
 */
export function trainingRuns(
  table: A.Table,
  req: { readonly byView: ReadonlyMap<string, readonly string[]>; readonly outNames: ReadonlyMap<string, string> },
  viewOf: (name: string) => FeatureView,
  runId: string,
): StatisticsRunRecord[] {
  const runs: StatisticsRunRecord[] = [];
  for (const [viewName, names] of req.byView) {
    const column = (f: string) => req.outNames.get(`${viewName}:${f}`) ?? f;
    const feats = viewOf(viewName).features.filter((f) => names.includes(f.name));
    const rec = new FeatureStatsRecorder(feats.map((f) => ({ name: column(f.name), dtype: f.dtype })));
    rec.addTable(table);
    const byColumn = rec.features();
    const features = Object.fromEntries(
      feats.filter((f) => byColumn[column(f.name)]).map((f) => [f.name, byColumn[column(f.name)]]),
    );
    runs.push({ view: viewName, runId, kind: 'training', rows: rec.rows, features });
  }
  return runs;
}
