/**
 * Entity rows for training sets: an Arrow table, an array of objects, a Parquet file path, or a
 * DataFrame-like object (danfo: `columns` + `values`, or `toJSON()` rows) — danfo itself is not imported.
 */
import * as A from 'apache-arrow';
import { StrataError } from '../../errors.js';
import { tableFromRecords } from '../engine/build.js';
import { readParquetFile } from '../sources/parquet.js';
import { EntityPartitioner, groupByPartition } from '../sources/spill.js';
import { takeTable } from '../engine/take.js';
import type { Shard } from '../../shard.js';

/** Anything with the shape of a danfo DataFrame. */
export interface DataFrameLike {
  readonly columns?: readonly string[];
  readonly values?: readonly (readonly unknown[])[];
  toJSON?(options?: unknown): unknown;
}

export type EntityRowsInput = A.Table | readonly Record<string, unknown>[] | string | DataFrameLike;

function isTable(x: unknown): x is A.Table {
  return (
    x instanceof A.Table ||
    (!!x && typeof x === 'object' && 'schema' in x && typeof (x as A.Table).getChild === 'function' && 'numRows' in x)
  );
}

export async function entityRowsTable(input: EntityRowsInput, signal?: AbortSignal): Promise<A.Table> {
  if (isTable(input)) return input;
  if (typeof input === 'string') return readParquetFile(input, undefined, signal);
  if (Array.isArray(input)) return tableFromRecords(input as Record<string, unknown>[]);
  const df = input as DataFrameLike;
  if (df && Array.isArray(df.columns) && Array.isArray(df.values)) {
    const cols = df.columns as string[];
    return tableFromRecords(
      (df.values as unknown[][]).map((row) => Object.fromEntries(cols.map((c, j) => [c, row[j]]))),
      { columns: cols },
    );
  }
  if (df && typeof df.toJSON === 'function') {
    const json = df.toJSON({ format: 'row' });
    if (Array.isArray(json)) return tableFromRecords(json as Record<string, unknown>[]);
    if (json && typeof json === 'object') {
      const cols = Object.keys(json);
      const data = json as Record<string, unknown[]>;
      const n = Math.max(0, ...cols.map((c) => (Array.isArray(data[c]) ? data[c].length : 0)));
      return tableFromRecords(
        Array.from({ length: n }, (_, i) => Object.fromEntries(cols.map((c) => [c, data[c]?.[i] ?? null]))),
        { columns: cols },
      );
    }
  }
  throw new StrataError(
    'INVALID_ARGUMENT',
    'entity rows must be an Arrow table, an array of objects, a Parquet path or a DataFrame',
    {
      field: 'entityRows',
      hint: 'pass e.g. [{ driver_id: 1, event_timestamp: new Date() }]',
    },
  );
}

/**
 * The entity rows of `shard`, by the stable hash of their `joinKeys` (EntityPartitioner: the hash
 * sharded backfills and materialization use), in row order. INVALID_ARGUMENT names a missing key.
 */
export function shardRows(rows: A.Table, joinKeys: readonly string[], shard: Shard): A.Table {
  const vectors = joinKeys.map((k) => {
    const v = rows.getChild(k);
    if (!v)
      throw new StrataError('INVALID_ARGUMENT', `entity rows have no column ${k} to shard by`, {
        column: k,
        hint: `add ${k} (a join key of the first requested view) to the entity rows, or drop shard`,
      });
    return v;
  });
  const part = new EntityPartitioner(joinKeys, shard.count).of(vectors);
  const { order, start } = groupByPartition(part, shard.count);
  return takeTable(rows, order.subarray(start[shard.index], start[shard.index + 1]));
}
