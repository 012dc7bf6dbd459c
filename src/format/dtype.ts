import { StrataError } from '../errors.js';

/** Element types a column can hold. `string` is UTF-8, `json` is UTF-8 JSON text, `bytes` is opaque. */
export const DTYPES = [
  'uint8',
  'int8',
  'uint16',
  'int16',
  'uint32',
  'int32',
  'uint64',
  'int64',
  'float16',
  'float32',
  'float64',
  'bool',
  'string',
  'json',
  'bytes',
] as const;
export type DType = (typeof DTYPES)[number];

/** Byte width of one element, or 0 for variable-width types (string, json, bytes). */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  uint64: 8,
  int64: 8,
  float16: 2,
  float32: 4,
  float64: 8,
  bool: 1,
  string: 0,
  json: 0,
  bytes: 0,
};

/** Stable on-disk codes (docs/FORMAT.md). Never reorder. */
export const DTYPE_CODES: Readonly<Record<DType, number>> = {
  uint8: 1,
  int8: 2,
  uint16: 3,
  int16: 4,
  uint32: 5,
  int32: 6,
  uint64: 7,
  int64: 8,
  float16: 9,
  float32: 10,
  float64: 11,
  bool: 12,
  string: 13,
  json: 14,
  bytes: 15,
};

export function dtypeFromCode(code: number): DType {
  const found = DTYPES.find((d) => DTYPE_CODES[d] === code);
  if (!found)
    throw new StrataError('CORRUPT', `unknown dtype code ${code}`, {
      hint: 'the file was written by a newer Strata or is damaged',
    });
  return found;
}

export function assertDType(value: unknown, field = 'dtype'): DType {
  if (typeof value === 'string' && (DTYPES as readonly string[]).includes(value)) return value as DType;
  throw new StrataError('INVALID_ARGUMENT', `unknown ${field} ${JSON.stringify(value)}`, {
    field,
    hint: `use one of ${DTYPES.join(', ')}`,
  });
}

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** A typed-array view over `bytes` (copied when unaligned). float16 is widened to Float32Array. */
export function typedView(dtype: DType, bytes: Uint8Array): TypedArray {
  const width = DTYPE_BYTES[dtype];
  if (width === 0) throw new StrataError('INVALID_ARGUMENT', `dtype ${dtype} has no typed-array view`);
  if (dtype === 'float16') return float16ToFloat32(bytes);
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
  const n = aligned.byteLength / width;
  const b = aligned.buffer;
  const o = aligned.byteOffset;
  switch (dtype) {
    case 'uint8':
    case 'bool':
      return new Uint8Array(b, o, n);
    case 'int8':
      return new Int8Array(b, o, n);
    case 'uint16':
      return new Uint16Array(b, o, n);
    case 'int16':
      return new Int16Array(b, o, n);
    case 'uint32':
      return new Uint32Array(b, o, n);
    case 'int32':
      return new Int32Array(b, o, n);
    case 'uint64':
      return new BigUint64Array(b, o, n);
    case 'int64':
      return new BigInt64Array(b, o, n);
    case 'float32':
      return new Float32Array(b, o, n);
    default:
      return new Float64Array(b, o, n);
  }
}

/** Inclusive integer range of each integer dtype. */
export const INT_RANGES: Readonly<Partial<Record<DType, readonly [bigint, bigint]>>> = {
  uint8: [0n, 255n],
  int8: [-128n, 127n],
  uint16: [0n, 65535n],
  int16: [-32768n, 32767n],
  uint32: [0n, 4294967295n],
  int32: [-2147483648n, 2147483647n],
  uint64: [0n, 18446744073709551615n],
  int64: [-9223372036854775808n, 9223372036854775807n],
};

/**
 * The one element check of every numeric dtype: undefined when `v` is stored exactly, else what
 * was expected. Integers take integral numbers or bigints in range (booleans as 0/1); floats take
 * any number (NaN and ±Infinity included) but not a finite one that overflows to infinity; bool
 * takes true/false/0/1.
 */
export function numberProblem(dtype: DType, v: unknown): string | undefined {
  const range = INT_RANGES[dtype];
  if (range) {
    if (typeof v === 'boolean') return undefined;
    let ok: boolean;
    if (typeof v === 'bigint') ok = v >= range[0] && v <= range[1];
    else if (typeof v === 'number' && Number.isInteger(v)) {
      // Number(range) may round up (2^64 - 1 → 2^64): the bigint comparison settles the edge.
      ok = v >= Number(range[0]) && (v < Number(range[1]) || BigInt(v) <= range[1]);
    } else ok = false;
    return ok ? undefined : `an integer in [${range[0]}, ${range[1]}] (${dtype})`;
  }
  switch (dtype) {
    case 'bool':
      return v === true || v === false || v === 0 || v === 1 || v === 0n || v === 1n
        ? undefined
        : 'true, false, 0 or 1';
    case 'float16':
    case 'float32':
    case 'float64': {
      const n = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined;
      if (n === undefined) return `a number (${dtype})`;
      if (!Number.isFinite(n) || dtype === 'float64') return undefined;
      const stored = dtype === 'float32' ? Math.fround(n) : float16BitsToNumber(float32ToFloat16Bits(n));
      return Number.isFinite(stored) ? undefined : `a number within the ${dtype} range`;
    }
    default:
      return `a value of a numeric dtype (${dtype} is not numeric)`;
  }
}

/**
 * Encodes numbers (or bigints) into little-endian bytes of `dtype`. Every element is checked with
 * `numberProblem` first; a bad one goes to `onInvalid` (which must throw), else INVALID_ARGUMENT.
 */
export function encodeNumbers(
  dtype: DType,
  values: ArrayLike<unknown>,
  onInvalid?: (index: number, value: unknown, expected: string) => never,
): Uint8Array {
  const n = values.length;
  const width = DTYPE_BYTES[dtype];
  if (width === 0) throw new StrataError('INVALID_ARGUMENT', `dtype ${dtype} is not numeric`);
  for (let i = 0; i < n; i++) {
    const problem = numberProblem(dtype, values[i]);
    if (problem === undefined) continue;
    if (onInvalid) onInvalid(i, values[i], problem);
    throw new StrataError('INVALID_ARGUMENT', `element ${i}: expected ${problem}, got ${String(values[i])}`, {
      index: i,
      expected: problem,
    });
  }
  const out = new Uint8Array(n * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number | bigint | boolean;
    const o = i * width;
    switch (dtype) {
      case 'uint8':
        view.setUint8(o, Number(v));
        break;
      case 'bool':
        view.setUint8(o, v ? 1 : 0);
        break;
      case 'int8':
        view.setInt8(o, Number(v));
        break;
      case 'uint16':
        view.setUint16(o, Number(v), true);
        break;
      case 'int16':
        view.setInt16(o, Number(v), true);
        break;
      case 'uint32':
        view.setUint32(o, Number(v), true);
        break;
      case 'int32':
        view.setInt32(o, Number(v), true);
        break;
      case 'uint64':
        view.setBigUint64(o, typeof v === 'bigint' ? v : BigInt(Number(v)), true);
        break;
      case 'int64':
        view.setBigInt64(o, typeof v === 'bigint' ? v : BigInt(Number(v)), true);
        break;
      case 'float16':
        view.setUint16(o, float32ToFloat16Bits(Number(v)), true);
        break;
      case 'float32':
        view.setFloat32(o, Number(v), true);
        break;
      default:
        view.setFloat64(o, Number(v), true);
    }
  }
  return out;
}

function float16ToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 1;
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(view.getUint16(i * 2, true));
  return out;
}

export function float16BitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 0x1f) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant = (mant | 0x800000) >> (1 - e);
    return sign | ((mant + 0x1000) >> 13);
  }
  const half = sign | (e << 10) | (mant >> 13);
  return mant & 0x1000 ? half + 1 : half;
}
