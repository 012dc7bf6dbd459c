/** Building Arrow vectors and tables: from typed arrays (zero-copy) and from JS records. */
import * as A from 'apache-arrow';
import { arrowOfDtype, categoryOf, inferDtype, listElement } from './dtypes.js';
import type { Dtype } from './types.js';

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
export function numericVector(values: Float64Array, valid: Uint8Array | null | undefined, dtype: Dtype): A.Vector {
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

const INT_TEXT = /^[+-]?\d+$/;

/** Converts a JS value to what Arrow's builder expects for `dtype`. */
export function coerce(v: unknown, dtype: Dtype): unknown {
  if (v === null || v === undefined) return null;
  const cat = categoryOf(dtype);
  switch (cat) {
    case 'int':
      if (typeof v === 'bigint') return dtype === 'int32' ? Number(v) : v;
      if (typeof v === 'boolean') return dtype === 'int32' ? Number(v) : BigInt(Number(v));
      // decimal text is exact for every int64 (a float64 detour would round beyond 2^53)
      if (typeof v === 'string' && INT_TEXT.test(v.trim())) {
        const big = BigInt(v.trim());
        return dtype === 'int32' ? Number(big) : big;
      }
      {
        const n = Number(v);
        if (!Number.isFinite(n)) return null;
        return dtype === 'int32' ? Math.trunc(n) : BigInt(Math.trunc(n));
      }
    case 'float':
      return typeof v === 'boolean' ? Number(v) : v === '' ? null : Number(v);
    case 'bool':
      return typeof v === 'string' ? /^(true|1|t|yes)$/i.test(v) : Boolean(v);
    case 'timestamp': {
      const ms = toMs(v);
      return Number.isFinite(ms) ? ms : null;
    }
    case 'string':
      if (typeof v === 'string') return v;
      return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
    case 'list': {
      const el = listElement(dtype) ?? 'float64';
      const arr = Array.isArray(v)
        ? v
        : ArrayBuffer.isView(v)
          ? Array.from(v as unknown as ArrayLike<unknown>)
          : typeof (v as { toArray?: unknown }).toArray === 'function'
            ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray())
            : [v];
      return arr.map((x) => coerce(x, el));
    }
    default:
      return v;
  }
}

/** Milliseconds since the epoch for Date / number (ms) / bigint / ISO string; NaN otherwise. */
export function toMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    return Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) || !/T|\d \d/.test(v) ? v : `${v}Z`);
  }
  return Number.NaN;
}

/** One vector from JS values with a known dtype. */
export function vectorOf(values: readonly unknown[], dtype: Dtype): A.Vector {
  const type = arrowOfDtype(dtype);
  return A.vectorFromArray(values.map((v) => coerce(v, dtype)) as never[], type as never);
}

/**
 * An Arrow table from row objects. Column order: `columns` if given, else first-seen order.
 * Dtypes: `dtypes[col]` if given, else inferred from the values.
 */
export function tableFromRecords(
  rows: readonly Record<string, unknown>[],
  options: { columns?: readonly string[]; dtypes?: Readonly<Record<string, Dtype>> } = {},
): A.Table {
  const names: string[] = options.columns ? [...options.columns] : [];
  if (!options.columns) {
    const seen = new Set<string>();
    for (const r of rows) {
      for (const k of Object.keys(r)) {
        if (seen.has(k)) continue;
        seen.add(k);
        names.push(k);
      }
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
export function normalizeValue(v: unknown, dtype: Dtype): unknown {
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
