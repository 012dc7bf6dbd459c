import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** UTF-8 strings, lz4-compressed chunks. */
export const text: HtypeCodec = {
  media: false,
  column: () => ({ htype: 'text', dtype: 'string', sampleCompression: 'none', chunkCompression: 'lz4', meta: {} }),
  encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null };
    if (typeof value !== 'string') throw badValue(ctx, 'a string', value);
    return { sample: { bytes: enc.encode(value), shape: [] } };
  },
  decode: (s) => (s === null ? null : dec.decode(s.bytes)),
};
