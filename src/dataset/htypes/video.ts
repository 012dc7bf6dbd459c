import { StrataError } from '../../errors.js';
import { SAMPLE_COMPRESSIONS, type SampleCompression } from '../../format/codec.js';
import { assertVideo } from '../../media/integrity.js';
import { probeVideo } from '../../media/video.js';
import type { ColumnSpec } from '../schema.js';
import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

/**
 * Encoded videos stored as their original bytes. ffprobe metadata (duration, fps, frame count,
 * size, codec) is read once at append time and kept in the info column.
 */
export const video: HtypeCodec = {
  media: true,
  column(name, spec) {
    const s = spec as Extract<ColumnSpec, { htype: 'video' }>;
    const sc: SampleCompression = s.sampleCompression ?? 'other';
    if (!SAMPLE_COMPRESSIONS.includes(sc)) {
      throw new StrataError('INVALID_ARGUMENT', `video column ${name}: unknown sampleCompression ${sc}`, {
        column: name,
      });
    }
    return { htype: 'video', dtype: 'uint8', sampleCompression: sc, chunkCompression: 'none', meta: {} };
  },
  async encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null, info: null };
    if (!(value instanceof Uint8Array)) throw badValue(ctx, 'video file bytes (Uint8Array or Buffer)', value);
    assertVideo(value, { column: ctx.column, row: ctx.row });
    const bytes = value;
    const meta = await probeVideo(
      {
        size: bytes.byteLength,
        read: (offset: number, length: number) => Promise.resolve(bytes.subarray(offset, offset + length)),
      },
      { context: { column: ctx.column, row: ctx.row } },
    ).catch((cause: unknown) => {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `row ${ctx.row}, column ${ctx.column}: the video cannot be read (${(cause as Error).message})`,
        {
          column: ctx.column,
          row: ctx.row,
          cause,
          hint: 'replace or re-encode the file',
        },
      );
    });
    const shape = [meta.frameCount, meta.height, meta.width, 3];
    return { sample: { bytes, shape }, info: { ...meta, shape } };
  },
  decode: () => undefined,
};
