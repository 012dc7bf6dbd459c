/**
 * Arrow columns → flat typed arrays for the engine: timestamps as float64 ms, numbers as float64 with a
 * validity array, strings as dictionary codes. Single-chunk float columns are used without a copy.
 */
import * as A from 'apache-arrow';
import { toMs } from './build.js';
import { allocF64 } from './pool.js';

/** A vector of any Arrow type (typed, unlike `A.Vector`'s default `any`). */
type Vec = A.Vector<A.DataType>;

export interface NumericColumn {
  readonly values: Float64Array;
  /** 1 = present; null when nothing is missing. */
  readonly valid: Uint8Array | null;
}

export interface CodedColumn extends NumericColumn {
  /** code → original value, when the column was dictionary-coded (strings, lists, objects). */
  readonly dict: unknown[] | null;
}

function bitValid(data: A.Data, out: Uint8Array, at: number): boolean {
  if (!data.nullCount) return false;
  const bm = data.nullBitmap;
  if (!bm || bm.length === 0) {
    out.fill(0, at, at + data.length);
    return true;
  }
  const off = data.offset;
  for (let i = 0; i < data.length; i++) {
    const b = off + i;
    out[at + i] = (bm[b >> 3] >> (b & 7)) & 1;
  }
  return true;
}

/** Multiplier to ms for timestamps in seconds and dates in days (µs / ns go through `finerThanMs`). */
function unitScale(type: A.DataType): number {
  if (type.typeId === A.Type.Timestamp) return (type as A.Timestamp).unit === A.TimeUnit.SECOND ? 1000 : 1;
  if (type.typeId === A.Type.Date) return (type as A.Date_).unit === A.DateUnit.DAY ? 86_400_000 : 1;
  return 1;
}

/** Units per ms of a µs or ns timestamp type; 0 for any other type. */
function finerThanMs(type: A.DataType): bigint | 0 {
  if (type.typeId !== A.Type.Timestamp) return 0;
  const u = (type as A.Timestamp).unit;
  return u === A.TimeUnit.MICROSECOND ? 1000n : u === A.TimeUnit.NANOSECOND ? 1_000_000n : 0;
}

/** floor(x / d) as a number: exact for every int64 (BigInt division truncates toward zero). */
function floorDiv(x: bigint, d: bigint): number {
  const q = x / d;
  return Number(x < 0n && q * d !== x ? q - 1n : q);
}

/**
 * A cell read as a plain JS value, with µs / ns timestamps as exact integer ms (Arrow's own `get`
 * returns them as fractional ms).
 */
export function cellValue(column: A.Vector, i: number): unknown {
  const vec = column as Vec;
  const perMs = finerThanMs(vec.type);
  if (!perMs) return vec.get(i) as unknown;
  if (!vec.isValid(i)) return null;
  let at = i;
  for (const d of vec.data) {
    if (at < d.length) return floorDiv((d.values as BigInt64Array)[d.offset + at], perMs);
    at -= d.length;
  }
  return null;
}

/** Reads one chunk's fixed-width numbers into out[at…]; returns false if the type is not fixed-width numeric. */
function readChunk(data: A.Data, out: Float64Array, at: number): boolean {
  const t = data.type;
  const n = data.length;
  const off = data.offset;
  const vals = data.values as ArrayLike<number | bigint> & {
    buffer: ArrayBufferLike;
    byteOffset: number;
    length: number;
  };
  if (t.typeId === A.Type.Bool) {
    const bits = data.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      const b = off + i;
      out[at + i] = (bits[b >> 3] >> (b & 7)) & 1;
    }
    return true;
  }
  const numeric =
    t.typeId === A.Type.Int || t.typeId === A.Type.Float || t.typeId === A.Type.Timestamp || t.typeId === A.Type.Date;
  if (!numeric) return false;
  const scale = unitScale(t);
  const perMs = finerThanMs(t);
  if (perMs && vals instanceof BigInt64Array) {
    // µs / ns: exact integer division to ms, rounding down (a float product would shift the time)
    for (let i = 0; i < n; i++) out[at + i] = floorDiv(vals[off + i], perMs);
    return true;
  }
  if (vals instanceof BigInt64Array || vals instanceof BigUint64Array) {
    // 64-bit words read as two 32-bit halves: exact below 2^53, no BigInt per value.
    const w = new Int32Array(vals.buffer, vals.byteOffset + off * 8, n * 2);
    const unsigned = vals instanceof BigUint64Array;
    for (let i = 0; i < n; i++) {
      const lo = w[2 * i] >>> 0;
      const hi = unsigned ? w[2 * i + 1] >>> 0 : w[2 * i + 1];
      out[at + i] = (hi * 4294967296 + lo) * scale;
    }
    return true;
  }
  if (t.typeId === A.Type.Float && (t as A.Float).precision === A.Precision.HALF) {
    for (let i = 0; i < n; i++) out[at + i] = A.util.uint16ToFloat64((vals as Uint16Array)[off + i]);
    return true;
  }
  const src = (vals as unknown as Float64Array).subarray(off, off + n);
  if (scale === 1) out.set(src, at);
  else for (let i = 0; i < n; i++) out[at + i] = src[i] * scale;
  return true;
}

/** A numeric column (ints, floats, bools, timestamps as ms) as float64 + validity; undefined if not numeric. */
export function readNumeric(column: A.Vector): NumericColumn | undefined {
  const vec = column as Vec;
  const chunks = vec.data;
  if (
    chunks.length === 1 &&
    chunks[0].type.typeId === A.Type.Float &&
    (chunks[0].type as A.Float).precision === A.Precision.DOUBLE
  ) {
    const d = chunks[0];
    const values = (d.values as Float64Array).subarray(d.offset, d.offset + d.length);
    const valid = d.nullCount ? new Uint8Array(d.length) : null;
    if (valid) bitValid(d, valid, 0);
    return { values, valid };
  }
  const values = allocF64(vec.length);
  let valid: Uint8Array | null = null;
  let at = 0;
  for (const d of chunks) {
    if (d.type.typeId === A.Type.Dictionary) return undefined;
    if (!readChunk(d, values, at)) return undefined;
    if (d.nullCount) {
      if (!valid) valid = new Uint8Array(vec.length).fill(1);
      bitValid(d, valid, at);
    }
    at += d.length;
  }
  return { values, valid };
}

/** Timestamps (any Arrow time type, numbers as ms, or ISO strings) as float64 ms; missing → NaN. */
export function readTimestamps(column: A.Vector): Float64Array {
  const vec = column as Vec;
  const num = readNumeric(vec);
  if (num) {
    if (num.valid) for (let i = 0; i < num.values.length; i++) if (!num.valid[i]) num.values[i] = Number.NaN;
    return num.values;
  }
  const out = new Float64Array(vec.length);
  for (let i = 0; i < vec.length; i++) {
    const v = vec.get(i) as unknown;
    out[i] = v === null || v === undefined ? Number.NaN : toMs(v);
  }
  return out;
}

/**
 * True unless the column holds 64-bit integers float64 cannot represent (|v| > 2^53): those must
 * not go through `readNumeric` where exactness matters (join keys, int64 feature values).
 */
export function int64Exact(column: A.Vector): boolean {
  for (const d of (column as Vec).data) {
    const vals = d.values as unknown;
    if (!(vals instanceof BigInt64Array || vals instanceof BigUint64Array)) continue;
    const w = new Int32Array(vals.buffer, vals.byteOffset + d.offset * 8, d.length * 2);
    const unsigned = vals instanceof BigUint64Array;
    for (let i = 1; i < w.length; i += 2) {
      const hi = w[i];
      if (unsigned ? hi >>> 0 >= 0x200000 : hi >= 0x200000 || hi < -0x200000) return false;
    }
  }
  return true;
}

/** A join key value as the engine hands it out: integers as numbers when safe, else exact bigints. */
export function keyValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  return canonical(v);
}

/** Canonical form of a key or value for dictionary coding (integers beyond 2^53 as their decimal text). */
export function canonical(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'object') {
    const o = v as { toArray?: () => unknown; toJSON?: () => unknown };
    const plain = typeof o.toArray === 'function' ? Array.from(o.toArray() as ArrayLike<unknown>) : v;
    return JSON.stringify(plain, (_k, x: unknown) =>
      typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x,
    );
  }
  return v;
}

/** Any column as float64: numbers directly, everything else as dictionary codes (code → value in `dict`). */
export function readCoded(column: A.Vector, dictMap?: Map<unknown, number>, dict?: unknown[]): CodedColumn {
  const vec = column as Vec;
  const num = readNumeric(vec);
  if (num) return { ...num, dict: null };
  const n = vec.length;
  const values = new Float64Array(n);
  let valid: Uint8Array | null = null;
  const map = dictMap ?? new Map<unknown, number>();
  const d = dict ?? [];
  for (let i = 0; i < n; i++) {
    const raw = vec.get(i) as unknown;
    if (raw === null || raw === undefined) {
      if (!valid) valid = new Uint8Array(n).fill(1);
      valid[i] = 0;
      continue;
    }
    const key = canonical(raw);
    let code = map.get(key);
    if (code === undefined) {
      code = d.length;
      map.set(key, code);
      d.push(
        typeof raw === 'object' && raw !== null && 'toArray' in raw
          ? Array.from((raw as { toArray(): ArrayLike<unknown> }).toArray())
          : raw,
      );
    }
    values[i] = code;
  }
  return { values, valid, dict: d };
}
