/**
 * The answer of `getOnlineFeatures`: entity columns plus one column per requested feature, each with
 * values, statuses and event timestamps (Feast's column-per-feature layout), and helpers to collect
 * it as objects or as a dense Float32Array matrix for a model.
 */
import { StrataError } from '../errors.js';
import { vectorDtype } from './dtypes.js';

/**
 * Feast's field statuses. `INVALID` (Feast's enum value 0) marks an on-demand feature whose
 * computation failed for that row (the column's `errors` says why).
 */
export const FEATURE_STATUSES = ['PRESENT', 'NOT_FOUND', 'NULL_VALUE', 'OUTSIDE_MAX_AGE', 'INVALID'] as const;
export type FeatureStatus = (typeof FEATURE_STATUSES)[number];

export interface FeatureColumn {
  /** Output name: `feature`, or `view__feature` with full feature names. */
  readonly name: string;
  /** `view:feature`. */
  readonly ref: string;
  readonly view: string;
  readonly feature: string;
  readonly dtype: string;
  readonly values: unknown[];
  readonly statuses: FeatureStatus[];
  /** Event time of each value, epoch ms; 0 when NOT_FOUND. Shared by the columns of one view: read-only. */
  readonly eventTimestampsMs: Float64Array;
  /**
   * When the store wrote each row, epoch ms; 0 when NOT_FOUND, NaN when the store does not know.
   * Only with `withWriteTime`. Shared by the columns of one view: read-only.
   */
  readonly writeTimestampsMs?: Float64Array;
  /** On-demand features: why each INVALID cell failed (null elsewhere); absent when no cell failed. */
  readonly errors?: (string | null)[];
}

/** One entity row: entity keys, then feature values by output name. */
export interface OnlineRow {
  readonly values: Record<string, unknown>;
  readonly statuses: Record<string, FeatureStatus>;
  readonly eventTimestampsMs: Record<string, number>;
  /** Only when the result was read with `withWriteTime`. */
  readonly writeTimestampsMs?: Record<string, number>;
}

export interface FeatureTensorOptions {
  /** Value for NOT_FOUND / NULL_VALUE / OUTSIDE_MAX_AGE cells. Default NaN. */
  readonly fill?: number;
}

export interface FeatureTensor {
  /** Row-major `[rows, cols]`. */
  readonly data: Float32Array;
  readonly shape: readonly [number, number];
  /** Column names; a vector feature `emb` of width d spans `emb[0]` … `emb[d-1]`. */
  readonly columns: readonly string[];
}

export class OnlineFeatures {
  constructor(
    /** Entity key columns, as given in the request. */
    readonly entities: Readonly<Record<string, readonly unknown[]>>,
    readonly columns: readonly FeatureColumn[],
    readonly rowCount: number,
  ) {}

  /** Entity key names then feature output names (Feast's `metadata.feature_names`). */
  get featureNames(): string[] {
    return [...Object.keys(this.entities), ...this.columns.map((c) => c.name)];
  }

  /** Feature column by output name or ref. */
  column(name: string): FeatureColumn {
    const c = this.columns.find((x) => x.name === name || x.ref === name);
    if (!c) throw new StrataError('NOT_FOUND', `no feature column ${name} in this result`, { column: name });
    return c;
  }

  /** Values, statuses and event times of row `i`. */
  row(i: number): OnlineRow {
    const values: Record<string, unknown> = {};
    const statuses: Record<string, FeatureStatus> = {};
    const eventTimestampsMs: Record<string, number> = {};
    let writeTimestampsMs: Record<string, number> | undefined;
    for (const [k, v] of Object.entries(this.entities)) values[k] = v[i];
    for (const c of this.columns) {
      values[c.name] = c.values[i];
      statuses[c.name] = c.statuses[i];
      eventTimestampsMs[c.name] = c.eventTimestampsMs[i];
      if (c.writeTimestampsMs) (writeTimestampsMs ??= {})[c.name] = c.writeTimestampsMs[i];
    }
    return writeTimestampsMs
      ? { values, statuses, eventTimestampsMs, writeTimestampsMs }
      : { values, statuses, eventTimestampsMs };
  }

  /** One plain object per entity row: entity keys and feature values (null when not PRESENT). */
  toObjects(): Record<string, unknown>[] {
    const out = new Array<Record<string, unknown>>(this.rowCount);
    const ents = Object.entries(this.entities);
    for (let i = 0; i < this.rowCount; i++) {
      const o: Record<string, unknown> = {};
      for (const [k, v] of ents) o[k] = v[i];
      for (const c of this.columns) o[c.name] = c.values[i];
      out[i] = o;
    }
    return out;
  }

  /**
   * Dense row-major Float32Array of the feature columns (entity keys excluded), vector features
   * flattened in place. Numbers, bigints, booleans and Dates convert; strings are refused (UNSUPPORTED).
   */
  toTensor(options: FeatureTensorOptions = {}): FeatureTensor {
    const fill = options.fill ?? Number.NaN;
    const widths = this.columns.map((c) => widthOf(c));
    const cols = widths.reduce((a, b) => a + b, 0);
    const data = new Float32Array(this.rowCount * cols);
    const names: string[] = [];
    this.columns.forEach((c, j) => {
      if (vectorDtype(c.dtype) || widths[j] > 1 || c.values.some(isVector)) {
        for (let d = 0; d < widths[j]; d++) names.push(`${c.name}[${d}]`);
      } else names.push(c.name);
    });
    let off = 0;
    this.columns.forEach((c, j) => {
      const w = widths[j];
      for (let i = 0; i < this.rowCount; i++) {
        const base = i * cols + off;
        const v = c.statuses[i] === 'PRESENT' ? c.values[i] : null;
        if (v === null || v === undefined) {
          data.fill(fill, base, base + w);
        } else if (isVector(v)) {
          if (v.length !== w) {
            throw new StrataError(
              'INVALID_ARGUMENT',
              `feature ${c.ref} has a vector of width ${v.length} in row ${i}, expected ${w}`,
              {
                column: c.name,
                row: i,
                hint: 'all vectors of a feature must have the same width',
              },
            );
          }
          for (let d = 0; d < w; d++) data[base + d] = Number(v[d]);
        } else {
          data[base] = scalar(v, c, i);
        }
      }
      off += w;
    });
    return { data, shape: [this.rowCount, cols], columns: names };
  }
}

function isVector(v: unknown): v is ArrayLike<number | bigint> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function widthOf(c: FeatureColumn): number {
  const vd = vectorDtype(c.dtype);
  if (vd?.dim) return vd.dim;
  const first = c.values.find((v, i) => c.statuses[i] === 'PRESENT' && isVector(v)) as ArrayLike<number> | undefined;
  if (first) return first.length;
  if (vd) {
    throw new StrataError('INVALID_ARGUMENT', `cannot tell the width of vector feature ${c.ref}: no row has a value`, {
      column: c.name,
      hint: 'declare the width in the dtype, e.g. float32[512]',
    });
  }
  return 1;
}

function scalar(v: unknown, c: FeatureColumn, row: number): number {
  switch (typeof v) {
    case 'number':
      return v;
    case 'bigint':
      return Number(v);
    case 'boolean':
      return v ? 1 : 0;
    default:
      if (v instanceof Date) return v.getTime();
      throw new StrataError('UNSUPPORTED', `feature ${c.ref} (${c.dtype}) cannot go into a float tensor`, {
        column: c.name,
        row,
        hint: 'leave non-numeric features out of toTensor() requests or encode them first',
      });
  }
}
