import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Any JSON value, stored as UTF-8 JSON text in lz4-compressed chunks. */
export const json: HtypeCodec = {
  media: false,
  column: () => ({ htype: 'json', dtype: 'json', sampleCompression: 'none', chunkCompression: 'lz4', meta: {} }),
  encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null };
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch (cause) {
      throw badValue(ctx, 'a JSON-serialisable value', value, String(cause));
    }
    return { sample: { bytes: enc.encode(text), shape: [] } };
  },
  decode: (s) => (s === null ? null : (JSON.parse(dec.decode(s.bytes)) as unknown)),
};
