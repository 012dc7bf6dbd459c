/**
 * The table of a table-layout source, as records: src/tables reads the file (CSV, JSON Lines,
 * Parquet, Arrow IPC) and this file applies ingest's cell rules. CSV cells: '' → null, true/false,
 * numbers, JSON arrays/objects, else the text as written; header names trimmed. JSON Lines: the
 * values as written. Parquet/Arrow: int64 as numbers when exact (else BigInt), timestamps as int64
 * epoch microseconds, lists as arrays.
 */
import * as A from 'apache-arrow';
import type { DType } from '../format/dtype.js';
import type { Storage } from '../storage/storage.js';
import { CsvRecords, csvRows } from '../tables/csv.js';
import { JSON_EXTENSION } from '../tables/dtypes.js';
import { readTable, tableFormatOf } from '../tables/read.js';

export { TABLE_FORMATS, type TableFormat, tableFormatOf } from '../tables/read.js';

/** A table file's records, and the column types the file declares (Parquet and Arrow only). */
export interface ParsedTable {
  readonly records: Record<string, unknown>[];
  /** Numeric column types the file declares; a timestamp column is int64 epoch microseconds. */
  readonly dtypes: Readonly<Record<string, DType>>;
}

/** Reads a table file of a source into records (see the module comment). */
export async function parseTable(storage: Storage, key: string, signal?: AbortSignal): Promise<ParsedTable> {
  const format = tableFormatOf(key);
  const text = format === 'csv' || format === 'jsonl';
  const records: Record<string, unknown>[] = [];
  const dtypes: Record<string, DType> = {};
  for await (const batch of readTable(storage, key, { infer: 'none', inferRows: Number.POSITIVE_INFINITY, signal })) {
    const columns = batch.schema.fields.map((f, k) => {
      const dtype = text ? undefined : declared(f.type as A.DataType);
      if (dtype) dtypes[f.name] = dtype;
      return { name: format === 'csv' ? f.name.trim() : f.name, field: f, vector: batch.getChildAt(k)! };
    });
    for (let i = 0; i < batch.numRows; i++) {
      const rec: Record<string, unknown> = {};
      for (const c of columns) rec[c.name] = cellOf(c.field, c.vector, i, format === 'csv');
      records.push(rec);
    }
  }
  return { records, dtypes };
}

/** Strata dtypes of the Arrow types a Parquet/Arrow file declares (strings are left to inference). */
const DECLARED: Readonly<Partial<Record<A.Type, DType>>> = {
  [A.Type.Bool]: 'bool',
  [A.Type.Timestamp]: 'int64',
};

function declared(type: A.DataType): DType | undefined {
  if (type instanceof A.Int) return type.bitWidth === 64 ? 'int64' : 'int32';
  if (type instanceof A.Float) return type.precision === A.Precision.DOUBLE ? 'float64' : 'float32';
  return DECLARED[type.typeId];
}

function cellOf(field: A.Field, vector: A.Vector, i: number, csv: boolean): unknown {
  if (!vector.isValid(i)) return null;
  if (field.metadata.get(JSON_EXTENSION_NAME) === 'arrow.json') return JSON.parse(vector.get(i) as string);
  if (csv) return csvValue(vector.get(i) as string);
  if (field.type instanceof A.Timestamp) return plain(microsOf(vector, i, field.type.unit));
  return plain(vector.get(i));
}

const JSON_EXTENSION_NAME = [...JSON_EXTENSION.keys()][0];

/** A timestamp cell as exact epoch microseconds. */
function microsOf(vector: A.Vector, i: number, unit: A.TimeUnit): bigint {
  let at = i;
  for (const data of vector.data) {
    if (at < data.length) {
      const raw = BigInt((data.values as BigInt64Array)[data.offset + at]);
      const f = unit === A.TimeUnit.SECOND ? 1_000_000n : unit === A.TimeUnit.MILLISECOND ? 1000n : 1n;
      return unit === A.TimeUnit.NANOSECOND ? raw / 1000n : raw * f;
    }
    at -= data.length;
  }
  return 0n;
}

/** Arrow values as plain JS: bigints that fit become numbers, nested vectors arrays. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (v instanceof A.Vector) return Array.from(v, plain);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>, plain);
  return v;
}

/** RFC 4180 CSV text with a header row into records, with ingest's cell rules (see the module comment). */
export function parseCsv(text: string, key = 'table.csv'): Record<string, unknown>[] {
  const records = new CsvRecords(key);
  const rows = [...records.of(csvRows(text, key))];
  const header = (records.header ?? []).map((h) => ({ name: h, as: h.trim() }));
  return rows.map((r) => Object.fromEntries(header.map((h) => [h.as, csvValue(r.values[h.name])])));
}

function csvValue(s: string): unknown {
  const t = s.trim();
  if (t === '') return null;
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return s;
    }
  }
  return s;
}
