import { StrataError } from '../../errors.js';
import type { Sample } from '../../format/chunk.js';
import { assertChunkCodec } from '../../format/codec.js';
import { type DType, DTYPE_BYTES, type TypedArray, assertDType, encodeNumbers, typedView } from '../../format/dtype.js';
import type { ColumnSpec } from '../schema.js';
import type { CellContext, HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

/** A decoded n-d tensor cell: flat data plus shape (row-major). */
export interface Tensor {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Numeric tensors of any dtype and shape (scalars read back as numbers, or bigints for 64-bit ints). */
export const generic: HtypeCodec = {
  media: false,
  column(_name, spec) {
    const s = spec as Extract<ColumnSpec, { htype: 'generic' }>;
    const dtype = assertDType(s.dtype);
    if (DTYPE_BYTES[dtype] === 0) {
      throw new StrataError('INVALID_ARGUMENT', `generic columns hold numbers; dtype ${dtype} is not numeric`, {
        hint: "use htype 'text' for strings, 'json' for objects",
      });
    }
    return {
      htype: 'generic',
      dtype,
      sampleCompression: 'none',
      chunkCompression: assertChunkCodec(s.chunkCompression ?? 'lz4'),
      meta: s.shape ? { shape: [...s.shape] } : {},
    };
  },
  encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null };
    const dtype = ctx.dtype;
    const sample = toSample(value, dtype, ctx);
    const declared = ctx.meta.shape as number[] | undefined;
    if (
      declared &&
      (declared.length !== sample.shape.length || declared.some((d, i) => d !== -1 && d !== sample.shape[i]))
    ) {
      throw badValue(ctx, `shape [${declared.join(', ')}]`, `shape [${sample.shape.join(', ')}]`);
    }
    return { sample };
  },
  decode(s, ctx) {
    if (s === null) return null;
    const dtype = ctx.dtype;
    const data = typedView(dtype, s.bytes);
    if (s.shape.length === 0) {
      const v = data[0];
      return dtype === 'bool' ? v === 1 : v;
    }
    return { data: data.slice(), shape: s.shape, dtype } satisfies Tensor;
  },
};

/** Encodes a scalar, (nested) array, typed array or {data, shape} into a sample of `dtype`. */
export function toSample(value: unknown, dtype: DType, ctx: Pick<CellContext, 'column' | 'row'>): Sample {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    checkRange(value, dtype, ctx);
    return { bytes: encodeNumbers(dtype, [value]), shape: [] };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = value as unknown as ArrayLike<number | bigint>;
    return { bytes: encodeNumbers(dtype, arr), shape: [arr.length] };
  }
  if (value && typeof value === 'object' && 'data' in value && 'shape' in value) {
    const t = value as { data: ArrayLike<number | bigint>; shape: number[] };
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw badValue(ctx, `${n} elements for shape [${t.shape.join(', ')}]`, t.data);
    return { bytes: encodeNumbers(dtype, t.data), shape: [...t.shape] };
  }
  if (Array.isArray(value)) {
    const shape: number[] = [];
    let probe: unknown = value;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    const flat = (value as unknown[]).flat(shape.length - 1 || 0) as unknown[];
    const n = shape.reduce((a, b) => a * b, 1);
    if (
      flat.length !== n ||
      flat.some((x) => typeof x !== 'number' && typeof x !== 'bigint' && typeof x !== 'boolean')
    ) {
      throw badValue(ctx, `a rectangular numeric array of shape [${shape.join(', ')}]`, value);
    }
    return { bytes: encodeNumbers(dtype, flat as number[]), shape };
  }
  throw badValue(ctx, `a ${dtype} number, array or typed array`, value);
}

const LIMITS: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};

function checkRange(v: number | bigint | boolean, dtype: DType, ctx: Pick<CellContext, 'column' | 'row'>): void {
  const lim = LIMITS[dtype];
  if (lim && typeof v === 'number' && (!Number.isInteger(v) || v < lim[0] || v > lim[1])) {
    throw badValue(ctx, `an integer in [${lim[0]}, ${lim[1]}] (${dtype})`, v);
  }
}
