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
  column(name, spec) {
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
      meta: s.shape ? { shape: declaredShape(name, s.shape) } : {},
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
  const encode = (values: ArrayLike<unknown>, shape: number[]): Sample => ({
    bytes: encodeNumbers(dtype, values, (i, v, expected) => {
      throw badValue(ctx, expected, v, shape.length > 0 ? `element ${i} (row-major)` : undefined);
    }),
    shape,
  });
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return encode([value], []);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = value as unknown as ArrayLike<number | bigint>;
    return encode(arr, [arr.length]);
  }
  if (value && typeof value === 'object' && 'data' in value && 'shape' in value) {
    const shape = checkShape(value.shape, ctx);
    const data = value.data;
    const n = shape.reduce((a, b) => a * b, 1);
    const isList = Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView));
    if (!isList || (data as ArrayLike<unknown>).length !== n) {
      throw badValue(ctx, `${n} elements for shape [${shape.join(', ')}]`, data);
    }
    return encode(data as ArrayLike<unknown>, shape);
  }
  if (Array.isArray(value)) {
    const shape: number[] = [];
    let probe: unknown = value;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    const flat: unknown[] = [];
    if (!flatten(value, shape, 0, flat)) {
      throw badValue(ctx, `a rectangular numeric array of shape [${shape.join(', ')}]`, value);
    }
    return encode(flat, shape);
  }
  throw badValue(ctx, `a ${dtype} number, array or typed array`, value);
}

/** Appends the elements of a nested array of exactly `shape` to `out`; false when ragged or holey. */
function flatten(value: unknown, shape: readonly number[], depth: number, out: unknown[]): boolean {
  if (depth === shape.length) {
    if (Array.isArray(value)) return false;
    out.push(value);
    return true;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) return false;
  for (let i = 0; i < value.length; i++) {
    if (!(i in value) || !flatten(value[i], shape, depth + 1, out)) return false;
  }
  return true;
}

/** A tensor shape: an array of non-negative integer dimensions that fit the chunk format (u32). */
export function checkShape(shape: unknown, ctx: Pick<CellContext, 'column' | 'row'>): number[] {
  if (
    !Array.isArray(shape) ||
    shape.length > 255 ||
    !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 0xffffffff)
  ) {
    throw badValue(ctx, 'a shape of non-negative integer dimensions', shape);
  }
  return [...(shape as number[])];
}

/** A declared column shape: integer dimensions, each non-negative or -1 (any size). */
function declaredShape(column: string, shape: unknown): number[] {
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= -1 && d <= 0xffffffff)
  ) {
    throw new StrataError('INVALID_ARGUMENT', `column ${column}: shape ${JSON.stringify(shape)} is not valid`, {
      column,
      field: 'shape',
      hint: 'use non-negative integer dimensions, or -1 for a dimension of any size',
    });
  }
  return [...(shape as number[])];
}
