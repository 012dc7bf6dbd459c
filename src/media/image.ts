import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { StrataError, throwIfAborted } from '../errors.js';
import { contextDetails, describeContext, type MediaContext } from './context.js';
import { sniffImage } from './image-header.js';

export const IMAGE_FITS = ['cover', 'contain', 'fill', 'inside'] as const;
/** cover: fill the box, crop the overflow (centred); contain: fit inside, pad with black to the box;
 * fill: stretch to the box; inside: fit inside, no padding (output may be smaller than the box). */
export type ImageFit = (typeof IMAGE_FITS)[number];

export const FAIL_ON = ['truncated', 'error', 'warning'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/**
 * What decoding does with an ICC colour profile embedded in the file (Adobe RGB, Display P3, ...):
 * - 'ignore': the stored values as they are, the pixels PIL (and so torchvision's loader) returns —
 *   what a model trained in PyTorch was fed.
 * - 'srgb': converted from the embedded profile to sRGB, the colours a browser shows.
 * Files without a profile decode the same either way.
 */
export const ICC_PROFILES = ['ignore', 'srgb'] as const;
export type IccProfile = (typeof ICC_PROFILES)[number];

export interface ResizeOptions {
  readonly width: number;
  readonly height: number;
  /** Default 'fill'. */
  readonly fit?: ImageFit;
}

export interface CropBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface DecodeImageOptions {
  /** Applied after `crop`. */
  readonly resize?: ResizeOptions;
  /** In source pixels, applied before `resize`. */
  readonly crop?: CropBox;
  /** One channel (luminance); alpha is dropped. Same as `channels: 1`. */
  readonly grayscale?: boolean;
  /** Force the channel count: 1 grey, 3 RGB (alpha dropped, grey expanded), 4 RGBA.
   * Default: the image's own channels, as the image header reports them. */
  readonly channels?: 1 | 3 | 4;
  /** Apply the EXIF orientation. Default false, so the shape matches the header's width/height. */
  readonly autoOrient?: boolean;
  /** How strict the decoder is. Default 'error': truncated or undecodable data fails (CORRUPT).
   * 'warning' also rejects files libjpeg/libpng only warn about. */
  readonly failOn?: FailOn;
  /** An embedded ICC profile: 'ignore' (default, PIL's pixels) or 'srgb' (convert); see {@link ICC_PROFILES}. */
  readonly iccProfile?: IccProfile;
  readonly signal?: AbortSignal;
}

/** Pixels in HWC order. */
export interface DecodedImage {
  readonly data: Uint8Array;
  readonly shape: [height: number, width: number, channels: number];
  readonly dtype: 'uint8';
}

export interface SharpSettings {
  /** libvips threads per image (`sharp.concurrency`). */
  readonly concurrency: number;
  /** Whether libvips' operation cache is on. */
  readonly cache: boolean;
  /** libuv pool size as this process will see it (UV_THREADPOOL_SIZE, default 4): how many
   * images sharp can process at the same time. */
  readonly threadpoolSize: number;
  /** Cores available: the pool size to aim for. */
  readonly cores: number;
}

let configured = false;

/**
 * Sets sharp's global settings. Defaults (also applied on the first decode if this is never
 * called): `concurrency: 1` — one libvips thread per image, throughput coming from decoding many
 * images at once on the libuv pool — and `cache: false`, because a data loader never decodes the
 * same buffer twice and the cache would only hold memory.
 *
 * Parallelism across images is bounded by libuv's pool (UV_THREADPOOL_SIZE, default 4), which is
 * the caller's business: set it to the core count in the environment before starting Node
 * (`UV_THREADPOOL_SIZE=$(nproc) node app.js`), or as the very first statement of the entry module,
 * before anything (fs, dns, crypto, zlib, sharp) has used the pool; later changes have no effect.
 */
export function configureSharp(
  options: { readonly concurrency?: number; readonly cache?: boolean } = {},
): SharpSettings {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 0) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `configureSharp: concurrency must be an integer >= 0, got ${concurrency}`,
      {
        field: 'concurrency',
        hint: '0 means one thread per core',
      },
    );
  }
  sharp.concurrency(concurrency);
  sharp.cache(options.cache ?? false);
  configured = true;
  return sharpSettings();
}

/** The settings in effect now. */
export function sharpSettings(): SharpSettings {
  const cache = sharp.cache();
  const pool = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10);
  return {
    concurrency: sharp.concurrency(),
    cache: cache.items.max > 0 && cache.memory.max > 0,
    threadpoolSize: Number.isFinite(pool) && pool > 0 ? Math.min(pool, 1024) : 4,
    cores: availableParallelism(),
  };
}

function ensureConfigured(): void {
  if (!configured) configureSharp();
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function invalid(message: string, field: string, context: MediaContext): StrataError {
  return new StrataError('INVALID_ARGUMENT', `${message}${describeContext(context)}`, {
    ...contextDetails(context),
    field,
  });
}

const positiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;

function validate(options: DecodeImageOptions, context: MediaContext): void {
  const { resize, crop, channels } = options;
  if (resize) {
    if (!positiveInt(resize.width) || !positiveInt(resize.height)) {
      throw invalid(
        `resize needs positive integer width and height, got ${resize.width}×${resize.height}`,
        'resize',
        context,
      );
    }
    if (resize.fit !== undefined && !IMAGE_FITS.includes(resize.fit)) {
      throw invalid(`resize.fit must be one of ${IMAGE_FITS.join(', ')}, got '${resize.fit}'`, 'resize.fit', context);
    }
  }
  if (crop) {
    const ok =
      positiveInt(crop.width) &&
      positiveInt(crop.height) &&
      Number.isInteger(crop.left) &&
      Number.isInteger(crop.top) &&
      crop.left >= 0 &&
      crop.top >= 0;
    if (!ok)
      throw invalid(
        `crop needs integer left/top >= 0 and width/height > 0, got ${JSON.stringify(crop)}`,
        'crop',
        context,
      );
  }
  if (channels !== undefined && channels !== 1 && channels !== 3 && channels !== 4) {
    throw invalid(`channels must be 1, 3 or 4, got ${String(channels)}`, 'channels', context);
  }
  if (options.failOn !== undefined && !FAIL_ON.includes(options.failOn)) {
    throw invalid(`failOn must be one of ${FAIL_ON.join(', ')}, got '${options.failOn}'`, 'failOn', context);
  }
  if (options.iccProfile !== undefined && !ICC_PROFILES.includes(options.iccProfile)) {
    throw invalid(
      `iccProfile must be one of ${ICC_PROFILES.join(', ')}, got '${options.iccProfile}'`,
      'iccProfile',
      context,
    );
  }
}

/** Maps a sharp/libvips failure to CORRUPT (or UNSUPPORTED) naming the sample. */
function decodeError(err: unknown, bytes: Uint8Array, context: MediaContext, what: string): StrataError {
  if (err instanceof StrataError) return err;
  const text = err instanceof Error ? err.message : String(err);
  const header = sniffImage(bytes);
  const details = { ...contextDetails(context), cause: err };
  if (header?.format === 'bmp') {
    return new StrataError(
      'UNSUPPORTED',
      `cannot ${what} a BMP image${describeContext(context)}: the image decoder has no BMP support`,
      {
        ...details,
        hint: 'convert it to PNG before ingesting',
      },
    );
  }
  if (/pixel limit/i.test(text)) {
    return new StrataError('UNSUPPORTED', `image too large to ${what}${describeContext(context)}: ${text}`, {
      ...details,
      hint: 'downscale the source image',
    });
  }
  const kind = header ? `${header.format} image` : 'image (unrecognised format)';
  return new StrataError('CORRUPT', `cannot ${what} ${kind}${describeContext(context)}: ${text.split('\n')[0]}`, {
    ...details,
    hint: 'the file is damaged, truncated or not an image; re-export it or drop the sample',
  });
}

/**
 * Decodes an image (jpeg, png, webp, gif first frame, tiff, and anything else libvips reads) to
 * HWC uint8 pixels, optionally cropped, resized and converted. An embedded ICC profile is ignored
 * unless `iccProfile: 'srgb'` (the pixels PIL gives, see {@link ICC_PROFILES}). Damaged or truncated data raises
 * StrataError CORRUPT naming `context` (never a partial or black image); a BMP raises UNSUPPORTED.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeImageOptions = {},
  context: MediaContext = {},
): Promise<DecodedImage> {
  throwIfAborted(options.signal, 'image decode');
  validate(options, context);
  ensureConfigured();
  const header = sniffImage(bytes);
  if (options.crop && header) {
    const { left, top, width, height } = options.crop;
    if (left + width > header.width || top + height > header.height) {
      throw invalid(
        `crop ${width}×${height}+${left}+${top} exceeds the ${header.width}×${header.height} image`,
        'crop',
        context,
      );
    }
  }
  try {
    let img = sharp(asBuffer(bytes), {
      failOn: options.failOn ?? 'error',
      autoOrient: options.autoOrient ?? false,
      ignoreIcc: (options.iccProfile ?? 'ignore') === 'ignore',
    });
    if (options.crop) img = img.extract(options.crop);
    if (options.resize) {
      const { width, height, fit = 'fill' } = options.resize;
      img = img.resize({ width, height, fit, position: 'centre', background: { r: 0, g: 0, b: 0, alpha: 1 } });
    }
    const channels = options.grayscale ? 1 : options.channels;
    if (channels === 1) img = img.removeAlpha().grayscale();
    else if (channels === 3) img = img.removeAlpha().toColourspace('srgb');
    else if (channels === 4) img = img.ensureAlpha().toColourspace('srgb');
    else if (header?.channels === 1) img = img.toColourspace('b-w');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      shape: [info.height, info.width, info.channels],
      dtype: 'uint8',
    };
  } catch (err) {
    throw decodeError(err, bytes, context, 'decode');
  }
}

export interface ThumbnailOptions {
  /** JPEG quality 1-100. Default 80. */
  readonly quality?: number;
  readonly signal?: AbortSignal;
}

/**
 * A JPEG no larger than maxSide×maxSide for a viewer: EXIF orientation applied, alpha flattened on
 * white, never enlarged. CORRUPT for damaged input, like {@link decodeImage}.
 */
export async function thumbnail(
  bytes: Uint8Array,
  maxSide: number,
  options: ThumbnailOptions = {},
  context: MediaContext = {},
): Promise<Uint8Array> {
  throwIfAborted(options.signal, 'thumbnail');
  if (!positiveInt(maxSide))
    throw invalid(`thumbnail maxSide must be a positive integer, got ${maxSide}`, 'maxSide', context);
  const quality = options.quality ?? 80;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100)
    throw invalid(`thumbnail quality must be 1-100, got ${quality}`, 'quality', context);
  ensureConfigured();
  try {
    const out = await sharp(asBuffer(bytes), { failOn: 'error', autoOrient: true })
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality })
      .toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw decodeError(err, bytes, context, 'thumbnail');
  }
}
