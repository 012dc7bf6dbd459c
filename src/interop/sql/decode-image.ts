import type { DuckDBValue } from '@duckdb/node-api';
import { StrataError } from '../../errors.js';
import { decodeImage } from '../../media/image.js';
import { type MediaRef, mediaRefType } from './columns.js';
import type { AsyncSqlFunction } from './functions.js';

/**
 * `decode_image(image)` → STRUCT(width INTEGER, height INTEGER, channels INTEGER, pixels BLOB):
 * the image's pixels, HWC uint8 in its own channel count (src/media decodeImage, no EXIF
 * rotation), for the rows the query evaluates it on. An image the decoder fails or warns on (truncated, corrupt) gives NULL, as the embedding job skips it.
 */
export const decodeImageFunction: AsyncSqlFunction = {
  name: 'decode_image',
  parameterTypes: (d) => [mediaRefType(d)],
  returnType: (d) => d.STRUCT({ width: d.INTEGER, height: d.INTEGER, channels: d.INTEGER, pixels: d.BLOB }),
  key: (args, ctx) => {
    const ref = args[0] as MediaRef;
    const ds = ctx.dataset(ref.source);
    return `${ds.uri}\u0000${ds.version}\u0000${ref.column}\u0000${ref.row_id}`;
  },
  async compute(calls, ctx, d) {
    const out: DuckDBValue[] = [];
    for (const [arg] of calls) {
      const ref = arg as MediaRef;
      const htype = ctx.dataset(ref.source).columnInfo(ref.column).htype;
      if (htype !== 'image') {
        throw new StrataError('UNSUPPORTED', `decode_image takes image columns; ${ref.column} is ${htype}`, {
          column: ref.column,
          hint: 'pass an image column',
        });
      }
      const bytes = await ctx.mediaBytes(ref);
      const img = bytes ? await decodeImage(bytes, { failOn: 'warning', signal: ctx.signal }).catch(() => null) : null;
      out.push(
        img &&
          d.structValue({
            width: img.shape[1],
            height: img.shape[0],
            channels: img.shape[2],
            pixels: d.blobValue(img.data),
          }),
      );
    }
    return out;
  },
};
