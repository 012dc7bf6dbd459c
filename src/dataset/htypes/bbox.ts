import { StrataError } from '../../errors.js';
import { BBOX_FORMATS, type ColumnSpec } from '../schema.js';
import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

/** Bounding boxes: float32 [n, 4] per row, in the column's declared format (ltrb/ltwh/ccwh) and units. */
export const bbox: HtypeCodec = {
  media: false,
  column(name, spec) {
    const s = spec as Extract<ColumnSpec, { htype: 'bbox' }>;
    const format = s.format ?? 'ltrb';
    if (!BBOX_FORMATS.includes(format)) {
      throw new StrataError('INVALID_ARGUMENT', `bbox column ${name}: unknown format ${format}`, {
        column: name,
        hint: `use ${BBOX_FORMATS.join(', ')}`,
      });
    }
    return {
      htype: 'bbox',
      dtype: 'float32',
      sampleCompression: 'none',
      chunkCompression: 'lz4',
      meta: { format, coords: s.coords ?? 'pixel' },
    };
  },
  encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null };
    let flat: number[];
    if (Array.isArray(value) && value.length === 4 && value.every((x) => typeof x === 'number')) flat = value;
    else if (Array.isArray(value) && value.every((b) => Array.isArray(b) && b.length === 4))
      flat = (value as number[][]).flat();
    else if (value instanceof Float32Array && value.length % 4 === 0) flat = Array.from(value);
    else throw badValue(ctx, 'boxes as [x1, y1, x2, y2], [[...4 numbers], ...] or a Float32Array of n×4', value);
    if (flat.some((x) => !Number.isFinite(x))) throw badValue(ctx, 'finite box coordinates', value);
    const data = Float32Array.from(flat);
    return { sample: { bytes: new Uint8Array(data.buffer), shape: [data.length / 4, 4] } };
  },
  decode(s) {
    if (s === null) return null;
    const copy = s.bytes.slice();
    const data = new Float32Array(copy.buffer, 0, copy.byteLength / 4);
    const out: number[][] = [];
    for (let i = 0; i < data.length; i += 4) out.push([data[i], data[i + 1], data[i + 2], data[i + 3]]);
    return out;
  },
};
