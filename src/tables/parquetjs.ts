/**
 * The one way Strata loads parquetjs-lite: every Parquet reader and writer (interop, ingest, feature
 * sources) gets the library from here.
 *
 * parquetjs-lite is CommonJS whose `module.exports` Node's ESM loader cannot name-export: under plain
 * `node` or tsx, `await import('parquetjs-lite')` yields only `default` (and one stray name), so its
 * named classes are `undefined` there, while vitest's loader happens to expose them. `require` gives
 * the same object everywhere.
 */
import { createRequire } from 'node:module';
import type * as ParquetJs from 'parquetjs-lite';

export type ParquetLib = typeof ParquetJs;

let lib: ParquetLib | undefined;

/** parquetjs-lite, loaded (and patched) on first use. */
export function parquetLib(): ParquetLib {
  if (lib) return lib;
  const require = createRequire(import.meta.url);
  const loaded = require('parquetjs-lite') as ParquetLib;
  // parquetjs-lite 0.8 decodes INT64 as BigInt but converts TIMESTAMP_MILLIS with `new Date(+value)`,
  // which throws on BigInt: every file with a millisecond timestamp column fails to open. Make the
  // conversion BigInt-safe (same result for numbers).
  const types = require('parquetjs-lite/lib/types.js') as {
    PARQUET_LOGICAL_TYPES: Record<
      string,
      { fromPrimitive?: (v: unknown) => unknown; toPrimitive?: (v: unknown) => unknown } | undefined
    >;
  };
  const millis = types.PARQUET_LOGICAL_TYPES.TIMESTAMP_MILLIS;
  if (millis) millis.fromPrimitive = (v) => new Date(Number(v));
  // It also writes INT64 through `parseInt`, so a BigInt beyond ±2^53 is rounded; its PLAIN encoder
  // writes BigInts exactly, so pass them through (numbers convert as before).
  const int64 = types.PARQUET_LOGICAL_TYPES.INT64;
  const toNumber = int64?.toPrimitive;
  if (int64 && toNumber) int64.toPrimitive = (v) => (typeof v === 'bigint' ? BigInt.asIntN(64, v) : toNumber(v));
  lib = loaded;
  return lib;
}

/** Epoch-microsecond factor of each Parquet timestamp type. */
const MICROS_PER_UNIT: Readonly<Record<string, bigint>> = { TIMESTAMP_MILLIS: 1000n, TIMESTAMP_MICROS: 1n };

/**
 * Makes a just-opened reader's timestamp columns exact and returns their epoch-microsecond factors
 * by column: parquetjs-lite itself gives millisecond `Date`s, which drop the sub-millisecond digits
 * of TIMESTAMP_MICROS (DuckDB's and pyarrow's default), so the timestamp type is dropped from this
 * reader's schema (the file is untouched) and the stored INT64 (a BigInt or number) is to be
 * multiplied by the factor.
 */
export function exactTimestamps(reader: ParquetJs.ParquetReader): Map<string, bigint> {
  const scale = new Map<string, bigint>();
  for (const [name, field] of Object.entries(reader.schema.fields)) {
    const factor = field.originalType === undefined ? undefined : MICROS_PER_UNIT[field.originalType];
    if (factor === undefined || field.fields) continue;
    field.originalType = undefined;
    scale.set(name, factor);
  }
  return scale;
}

/**
 * Every record of a just-opened reader, with its timestamp columns exact: epoch microseconds as
 * BigInt (see `exactTimestamps`). Returns the records and the names of the timestamp columns.
 */
export async function readRecords(
  reader: ParquetJs.ParquetReader,
): Promise<{ records: Record<string, unknown>[]; timestamps: string[] }> {
  const scale = exactTimestamps(reader);
  const records: Record<string, unknown>[] = [];
  const cursor = reader.getCursor();
  for (let r = await cursor.next(); r; r = await cursor.next()) {
    for (const [name, factor] of scale) {
      const v = r[name];
      if (v !== null && v !== undefined) r[name] = BigInt(v as bigint | number) * factor;
    }
    records.push(r);
  }
  return { records, timestamps: [...scale.keys()] };
}
