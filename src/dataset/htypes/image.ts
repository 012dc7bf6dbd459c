import { StrataError } from '../../errors.js';
import { SAMPLE_COMPRESSIONS, type SampleCompression } from '../../format/codec.js';
import { assertImage } from '../../media/integrity.js';
import type { ColumnSpec } from '../schema.js';
import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

/**
 * Encoded images stored as their original bytes (never re-encoded). Dimensions are read from the
 * header at append time and kept in the info column, so shape and format never need a media read.
 * A column declared with `sampleCompression` accepts only that format; otherwise any image format.
 */
export const image: HtypeCodec = {
  media: true,
  column(name, spec) {
    const s = spec as Extract<ColumnSpec, { htype: 'image' }>;
    const sc: SampleCompression = s.sampleCompression ?? 'other';
    if (!SAMPLE_COMPRESSIONS.includes(sc)) {
      throw new StrataError('INVALID_ARGUMENT', `image column ${name}: unknown sampleCompression ${sc}`, {
        column: name,
      });
    }
    return { htype: 'image', dtype: 'uint8', sampleCompression: sc, chunkCompression: 'none', meta: {} };
  },
  encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null, info: null };
    if (!(value instanceof Uint8Array)) throw badValue(ctx, 'image file bytes (Uint8Array or Buffer)', value);
    const h = assertImage(value, { column: ctx.column, row: ctx.row });
    const declared = ctx.meta.sampleCompression as SampleCompression | undefined;
    if (declared && declared !== 'other' && declared !== h.format) {
      throw badValue(
        ctx,
        `a ${declared} image (the column's sampleCompression)`,
        `a ${h.format} image`,
        'convert it, or create the column without sampleCompression to accept any format',
      );
    }
    const shape = [h.height, h.width, h.channels];
    return { sample: { bytes: value, shape }, info: { format: h.format, shape } };
  },
  decode: () => undefined,
};
