import { StrataError } from '../../errors.js';
import type { ColumnSpec } from '../schema.js';
import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

/** Fixed-dimension float32 vectors. Uncompressed chunks (floats do not compress) in the fixed layout. */
export const embedding: HtypeCodec = {
  media: false,
  column(name, spec) {
    const s = spec as Extract<ColumnSpec, { htype: 'embedding' }>;
    if (!Number.isInteger(s.dim) || s.dim <= 0) {
      throw new StrataError('INVALID_ARGUMENT', `embedding column ${name} needs a positive integer dim, got ${s.dim}`, {
        column: name,
        field: 'dim',
      });
    }
    return {
      htype: 'embedding',
      dtype: 'float32',
      sampleCompression: 'none',
      chunkCompression: 'none',
      meta: { ...(s.meta ?? {}), dim: s.dim },
    };
  },
  encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null };
    const dim = ctx.meta.dim as number;
    let v: Float32Array;
    if (value instanceof Float32Array) v = value;
    else if (Array.isArray(value) || ArrayBuffer.isView(value)) v = Float32Array.from(value as ArrayLike<number>);
    else throw badValue(ctx, `a Float32Array or number[] of length ${dim}`, value);
    if (v.length !== dim) throw badValue(ctx, `a vector of dimension ${dim}`, value);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw badValue(ctx, 'finite numbers', value, `element ${i} is ${v[i]}`);
    }
    return { sample: { bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), shape: [dim] } };
  },
  decode(s) {
    if (s === null) return null;
    const copy = s.bytes.slice();
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  },
};
