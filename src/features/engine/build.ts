/** Building Arrow vectors and tables: from typed arrays (zero-copy) and from JS records. */
import * as A from 'apache-arrow';
import { categoryOf, inferDtype, listElement } from '../../tables/dtypes.js';
import { coerce, vectorOf } from '../../tables/values.js';
import type { TableDtype } from '../definitions/types.js';

export { coerce, toMs, vectorOf } from '../../tables/values.js';

/** Packs a 0/1 validity array into an Arrow null bitmap; undefined when nothing is null. */
export function packValidity(
  valid: Uint8Array | null | undefined,
  n: number,
): { bitmap?: Uint8Array; nullCount: number } {
  if (!valid) return { nullCount: 0 };
  let nulls = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls ? { bitmap, nullCount: nulls } : { nullCount: 0 };
}

/** Float64 vector over `values` (no copy); `valid[i] = 0` marks nulls. */
export function float64Vector(values: Float64Array, valid?: Uint8Array | null): A.Vector {
  const { bitmap, nullCount } = packValidity(valid, values.length);
  return A.makeVector(
    A.makeData({ type: new A.Float64(), length: values.length, data: values, nullBitmap: bitmap, nullCount }),
  );
}

/** Vector of `dtype` from float64 numbers (ints rounded, timestamps as ms, bools as 0/1). */
export function numericVector(values: Float64Array, valid: Uint8Array | null | undefined, dtype: TableDtype): A.Vector {
  const n = values.length;
  const { bitmap, nullCount } = packValidity(valid, n);
  const cat = categoryOf(dtype);
  if (cat === 'float' && dtype !== 'float32') return float64Vector(values, valid);
  if (cat === 'float') {
    return A.makeVector(
      A.makeData({ type: new A.Float32(), length: n, data: Float32Array.from(values), nullBitmap: bitmap, nullCount }),
    );
  }
  if (cat === 'bool') {
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (values[i]) bits[i >> 3] |= 1 << (i & 7);
    return A.makeVector(A.makeData({ type: new A.Bool(), length: n, data: bits, nullBitmap: bitmap, nullCount }));
  }
  if (cat === 'int' && dtype === 'int32') {
    return A.makeVector(
      A.makeData({ type: new A.Int32(), length: n, data: Int32Array.from(values), nullBitmap: bitmap, nullCount }),
    );
  }
  // 64-bit two's complement written as two 32-bit words (exact below 2^53, no BigInt per value)
  const big = new BigInt64Array(n);
  const words = new Int32Array(big.buffer);
  for (let i = 0; i < n; i++) {
    const v = Math.trunc(values[i]);
    if (v === v && (!valid || valid[i])) setInt64(words, i, v);
  }
  const type = cat === 'timestamp' ? new A.TimestampMillisecond() : new A.Int64();
  return A.makeVector(A.makeData({ type, length: n, data: big, nullBitmap: bitmap, nullCount } as never));
}

/**
 * Writes the integer `v` (|v| <= 2^53) as element `i` of a BigInt64Array seen as 32-bit `words`
 * (two's complement, little-endian), with no BigInt per value. Expects the element still zero.
 */
export function setInt64(words: Int32Array, i: number, v: number): void {
  if (v >= 0 && v < 2147483648) {
    words[2 * i] = v;
    return;
  }
  const hi = Math.floor(v / 4294967296);
  words[2 * i] = (v - hi * 4294967296) | 0;
  words[2 * i + 1] = hi | 0;
}

/**
 * An Arrow table from row objects. Column order: `columns` if given, else first-seen order.
 * Dtypes: `dtypes[col]` if given, else inferred from the values.
 */
export function tableFromRecords(
  rows: readonly Record<string, unknown>[],
  options: { columns?: readonly string[]; dtypes?: Readonly<Record<string, TableDtype>> } = {},
): A.Table {
  const names: string[] = options.columns ? [...options.columns] : [];
  if (!options.columns) {
    const seen = new Set<string>();
    for (const r of rows)
      for (const k of Object.keys(r)) {
        if (!seen.has(k)) names.push(k);
        seen.add(k);
      }
  }
  const vectors: Record<string, A.Vector> = {};
  for (const name of names) {
    const vals = rows.map((r) => r[name]);
    vectors[name] = vectorOf(vals, options.dtypes?.[name] ?? inferDtype(vals));
  }
  return new A.Table(vectors);
}

/**
 * A JS value as it reads back from an Arrow column of `dtype` (int64 → number, or bigint beyond
 * 2^53; float32 rounded; time → ms).
 */
export function normalizeValue(v: unknown, dtype: TableDtype): unknown {
  const c = coerce(v, dtype);
  if (c === null || c === undefined) return null;
  if (typeof c === 'bigint') return Number.isSafeInteger(Number(c)) ? Number(c) : c;
  if (dtype === 'float32' && typeof c === 'number') return Math.fround(c);
  if (Array.isArray(c)) {
    const el = listElement(dtype) ?? 'float64';
    return c.map((x) => normalizeValue(x, el));
  }
  return c;
}
