import type { ColumnSpec } from '../schema.js';
import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

/** Class labels: stored as int32 ids; the id → name list lives in column metadata (`classNames`). */
export const classLabel: HtypeCodec = {
  media: false,
  column(_name, spec) {
    const s = spec as Extract<ColumnSpec, { htype: 'class_label' }>;
    return {
      htype: 'class_label',
      dtype: 'int32',
      sampleCompression: 'none',
      chunkCompression: 'lz4',
      meta: { classNames: [...(s.classNames ?? [])] },
    };
  },
  encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null };
    const names = (ctx.meta.classNames as string[]) ?? [];
    let id: number;
    if (typeof value === 'string') {
      id = names.indexOf(value);
      if (id < 0) {
        id = names.length;
        ctx.updateMeta({ ...ctx.meta, classNames: [...names, value] });
      }
    } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 31) {
      id = value;
    } else {
      throw badValue(ctx, 'a class name (string) or a non-negative integer id', value);
    }
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, id, true);
    return { sample: { bytes, shape: [] } };
  },
  decode(s, ctx) {
    if (s === null) return null;
    const id = new DataView(s.bytes.buffer, s.bytes.byteOffset, 4).getInt32(0, true);
    const names = ctx.meta.classNames as string[] | undefined;
    return names?.[id] ?? id;
  },
};
