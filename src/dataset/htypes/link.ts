import { StrataError } from '../../errors.js';
import { type ImageHeader, sniffImage } from '../../media/image-header.js';
import { assertImage } from '../../media/integrity.js';
import { probeVideo } from '../../media/video.js';
import type { ColumnSpec } from '../schema.js';
import type { HtypeCodec } from './htype.js';
import { badValue } from './errors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Bytes read from a linked image to find its dimensions (JPEG SOF can sit behind large EXIF blocks). */
const IMAGE_HEAD_BYTES = 256 * 1024;

/**
 * References to external files (local path, file://, s3://, http(s)://), like Deep Lake's
 * `link[image]`. The URL is stored; the file is fetched lazily through the storage layer. At append
 * the file is checked (image header or ffprobe) so shape and format are known without fetching later.
 */
export const link: HtypeCodec = {
  media: true,
  column(_name, spec) {
    const s = spec as Extract<ColumnSpec, { htype: 'link' }>;
    return {
      htype: 'link',
      dtype: 'string',
      sampleCompression: 'none',
      chunkCompression: 'lz4',
      meta: { target: s.target ?? 'image' },
    };
  },
  async encode(value, ctx) {
    if (value === null || value === undefined) return { sample: null, info: null };
    if (typeof value !== 'string' || value.length === 0) throw badValue(ctx, 'a URL or path string', value);
    const target = (ctx.meta.target as string) ?? 'image';
    const file = await ctx.links.resolve(value);
    const size = await file.storage.size(file.key);
    if (size === undefined) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `row ${ctx.row}, column ${ctx.column}: linked file ${value} does not exist`,
        {
          column: ctx.column,
          row: ctx.row,
          file: value,
          hint: 'fix the path or credentials',
        },
      );
    }
    let info: Record<string, unknown> = { url: value, size };
    if (target === 'image') {
      const head =
        size <= IMAGE_HEAD_BYTES
          ? await file.storage.get(file.key)
          : await file.storage.getRange(file.key, 0, IMAGE_HEAD_BYTES);
      const h =
        size <= IMAGE_HEAD_BYTES
          ? assertImage(head, { column: ctx.column, row: ctx.row, file: value })
          : sniffOrThrow(head, value, ctx);
      info = { ...info, format: h.format, shape: [h.height, h.width, h.channels] };
    } else if (target === 'video') {
      const meta = await probeVideo(
        { size, read: (o: number, n: number) => file.storage.getRange(file.key, o, n) },
        { context: { column: ctx.column, row: ctx.row, file: value } },
      );
      info = { ...info, ...meta, shape: [meta.frameCount, meta.height, meta.width, 3] };
    }
    return { sample: { bytes: enc.encode(value), shape: [] }, info };
  },
  decode: (s) => (s === null ? null : dec.decode(s.bytes)),
};

/** Large linked images: only the header is fetched at append, so only the header is checked. */
function sniffOrThrow(head: Uint8Array, file: string, ctx: { column: string; row: number }): ImageHeader {
  const h = sniffImage(head);
  if (h) return h;
  throw new StrataError(
    'INVALID_ARGUMENT',
    `row ${ctx.row}, column ${ctx.column}: linked file ${file} is not a readable image`,
    {
      column: ctx.column,
      row: ctx.row,
      file,
      hint: 'fix the link or the file',
    },
  );
}
