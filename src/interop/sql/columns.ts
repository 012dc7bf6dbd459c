import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { StrataError } from '../../errors.js';
import type { Dataset } from '../../dataset/dataset.js';
import type { DType } from '../../format/dtype.js';
import type { DuckModule } from './duckdb.js';

/**
 * How one dataset column appears in SQL. Types:
 * - generic scalars: TINYINT/SMALLINT/INTEGER/BIGINT (and unsigned), FLOAT, DOUBLE, BOOLEAN by dtype;
 * - text, class_label (the class name), link (the URL): VARCHAR; json: VARCHAR (JSON text);
 * - embedding: FLOAT[]; generic tensors: the dtype's list (flattened, row-major);
 * - image/video: a reference STRUCT(source VARCHAR, "column" VARCHAR, row_id BIGINT, width INTEGER,
 *   height INTEGER, format VARCHAR, duration DOUBLE) read from the info column (no media read);
 * - `_rowid`: BIGINT, the stable row id.
 */
export interface SqlColumn {
  /** Name in DuckDB (the dataset column's name, or `_rowid`). */
  readonly name: string;
  /** The stored column read for it (media: the info column), or null for `_rowid`. */
  readonly kind: 'scalar' | 'string' | 'json' | 'list' | 'media' | 'rowid';
  readonly dtype: DType;
  /** Whether vector `setItem` takes the decoded value as is (numbers, booleans, strings). */
  readonly direct: boolean;
  type(duck: DuckModule): DuckDBType;
  /** The DuckDB value of one decoded cell (media: its info record) of the row with id `rowId`. */
  value(duck: DuckModule, cell: unknown, rowId: number, source: string): DuckDBValue;
}

export const ROWID = '_rowid';

const SCALAR: Partial<Record<DType, (d: DuckModule) => DuckDBType>> = {
  int8: (d) => d.TINYINT,
  int16: (d) => d.SMALLINT,
  int32: (d) => d.INTEGER,
  int64: (d) => d.BIGINT,
  uint8: (d) => d.UTINYINT,
  uint16: (d) => d.USMALLINT,
  uint32: (d) => d.UINTEGER,
  uint64: (d) => d.UBIGINT,
  float16: (d) => d.FLOAT,
  float32: (d) => d.FLOAT,
  float64: (d) => d.DOUBLE,
  bool: (d) => d.BOOLEAN,
};

/** The DuckDB struct type of a media reference. */
export function mediaRefType(d: DuckModule): DuckDBType {
  return d.STRUCT({
    source: d.VARCHAR,
    column: d.VARCHAR,
    row_id: d.BIGINT,
    width: d.INTEGER,
    height: d.INTEGER,
    format: d.VARCHAR,
    duration: d.DOUBLE,
  });
}

/** A media reference as the UDFs receive it. */
export interface MediaRef {
  readonly source: string;
  readonly column: string;
  readonly row_id: bigint | number;
}

function mediaValue(d: DuckModule, info: unknown, rowId: number, source: string, column: string): DuckDBValue {
  if (info === null || info === undefined) return null;
  const rec = info as Record<string, unknown>;
  const shape = (rec.shape as number[] | undefined) ?? [];
  const video = shape.length === 4;
  const [h, w] = video ? [shape[1], shape[2]] : [shape[0], shape[1]];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return d.structValue({
    source,
    column,
    row_id: BigInt(rowId),
    width: num(w),
    height: num(h),
    format: typeof rec.format === 'string' ? rec.format : null,
    duration: num(rec.durationS ?? rec.duration),
  });
}

/** The SQL columns of `names` (dataset columns, or `_rowid`). Columns SQL cannot show are refused. */
export function sqlColumns(ds: Dataset, names: readonly string[]): SqlColumn[] {
  return names.map((name): SqlColumn => {
    if (name === ROWID) {
      return {
        name,
        kind: 'rowid',
        dtype: 'float64',
        direct: false,
        type: (d) => d.BIGINT,
        value: (_d, _c, rowId) => BigInt(rowId),
      };
    }
    const c = ds.columnInfo(name);
    const base = { name, dtype: c.dtype };
    switch (c.htype) {
      case 'image':
      case 'video':
        return {
          ...base,
          kind: 'media',
          direct: false,
          type: mediaRefType,
          value: (d, info, rowId, source) => mediaValue(d, info, rowId, source, name),
        };
      case 'text':
        return { ...base, kind: 'string', direct: true, type: (d) => d.VARCHAR, value: (_d, v) => v as string };
      case 'class_label':
      case 'link':
        return {
          ...base,
          kind: 'string',
          direct: false,
          type: (d) => d.VARCHAR,
          value: (_d, v) => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)),
        };
      case 'json':
        return {
          ...base,
          kind: 'json',
          direct: false,
          type: (d) => d.VARCHAR,
          value: (_d, v) => (v === null ? null : JSON.stringify(v)),
        };
      case 'embedding':
        return {
          ...base,
          kind: 'list',
          direct: false,
          type: (d) => d.LIST(d.FLOAT),
          value: (d, v) => (v === null ? null : d.listValue(Array.from(v as Float32Array))),
        };
      case 'generic': {
        const scalar = SCALAR[c.dtype];
        if (!scalar) break;
        if (c.meta.shape === undefined) {
          return { ...base, kind: 'scalar', direct: true, type: scalar, value: (_d, v) => v as DuckDBValue };
        }
        return {
          ...base,
          kind: 'list',
          direct: false,
          type: (d) => d.LIST(scalar(d)),
          value: (d, v) => {
            if (v === null) return null;
            const data = typeof v === 'object' ? (v as { data: ArrayLike<number | bigint> }).data : [v];
            return d.listValue(Array.from(data as ArrayLike<number>, (x) => (c.dtype === 'bool' ? x === 1 : x)));
          },
        };
      }
    }
    throw new StrataError('UNSUPPORTED', `column ${name} (htype ${c.htype}) cannot be shown to SQL`, {
      column: name,
      hint: 'leave it out of the query, or export it with toArrow',
    });
  });
}

/** Whether SQL can show the column (a `*` leaves the others out; naming one is UNSUPPORTED). */
export function sqlShowable(ds: Dataset, name: string): boolean {
  try {
    sqlColumns(ds, [name]);
    return true;
  } catch {
    return false;
  }
}
