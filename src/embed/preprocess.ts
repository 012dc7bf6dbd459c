import sharp from 'sharp';
import { StrataError } from '../errors.js';
import { sniffImage } from '../media/image-header.js';
import { TENSOR_LAYOUTS, type TensorLayout } from '../dataset/batches/index.js';
import { ICC_PROFILES, type IccProfile } from '../media/image.js';
import { formatDims, type TensorInfo } from './model.js';

export const PREPROCESS_FITS = ['cover', 'contain', 'fill', 'center-crop'] as const;
export type PreprocessFit = (typeof PREPROCESS_FITS)[number];
export const CHANNEL_ORDERS = ['RGB', 'BGR', 'gray'] as const;
export type ChannelOrder = (typeof CHANNEL_ORDERS)[number];

/** ImageNet statistics in RGB order (torchvision convention). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * How images become model input. Pixel value v (0..255) of tensor channel c becomes
 * `(v * scale - mean[c]) / std[c]`; mean/std are in tensor channel order (`channels`).
 */
export interface Preprocess {
  /** [height, width] of the model input. */
  readonly size: readonly [number, number];
  /**
   * - 'cover': resize keeping aspect ratio to cover size, crop the centre.
   * - 'contain': resize keeping aspect ratio to fit inside size, pad with black.
   * - 'fill': stretch to size, ignoring aspect ratio.
   * - 'center-crop': torchvision eval style: resize so the image covers size / cropFraction
   *   (e.g. shorter side 256 for 224 at 0.875), then crop the centre size.
   */
  readonly fit: PreprocessFit;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly layout: TensorLayout;
  readonly channels: ChannelOrder;
  readonly scale: number;
  /** Used by fit 'center-crop' only. */
  readonly cropFraction: number;
  /**
   * An ICC colour profile embedded in an image: 'ignore' its values as PIL and torchvision do, or
   * convert them to 'srgb' (see ICC_PROFILES in media). Use 'srgb' only for a model trained on
   * colour-managed pixels.
   */
  readonly iccProfile: IccProfile;
}

/**
 * Options for `resolvePreprocess`; every field is optional. Defaults: size [224, 224] (a number
 * means square), fit 'cover', layout 'NCHW', channels 'RGB', scale 1/255, cropFraction 0.875,
 * iccProfile 'ignore', mean/std ImageNet ([0.485, 0.456, 0.406] / [0.229, 0.224, 0.225], reversed for 'BGR', and their
 * averages 0.449 / 0.226 for 'gray'). Pass mean [0] and std [1] for no normalization.
 * A one-element mean or std applies to every channel.
 */
export type PreprocessOptions = Partial<Omit<Preprocess, 'size'>> & {
  readonly size?: number | readonly [number, number];
};

function bad(field: string, message: string, hint?: string, extra: Record<string, unknown> = {}): StrataError {
  return new StrataError('INVALID_ARGUMENT', message, { field: `preprocess.${field}`, hint, ...extra });
}

function oneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw bad(field, `preprocess.${field} '${value}' is not supported`, `use one of ${allowed.join(', ')}`);
  }
  return value;
}

/** Tensor channel count for a channel order. */
export function channelCount(channels: ChannelOrder): number {
  return channels === 'gray' ? 1 : 3;
}

/** Applies defaults and checks each field on its own. Throws INVALID_ARGUMENT naming the field. */
export function resolvePreprocess(options: PreprocessOptions = {}): Preprocess {
  const s = options.size ?? 224;
  const size: [number, number] = typeof s === 'number' ? [s, s] : [s[0], s[1]];
  if (size.length !== 2 || !size.every((d) => Number.isInteger(d) && d > 0)) {
    throw bad('size', `preprocess.size ${JSON.stringify(options.size)} must be [height, width] positive integers`);
  }
  const channels = oneOf('channels', options.channels ?? 'RGB', CHANNEL_ORDERS);
  const c = channelCount(channels);
  const defMean = channels === 'gray' ? [0.449] : [...IMAGENET_MEAN];
  const defStd = channels === 'gray' ? [0.226] : [...IMAGENET_STD];
  if (channels === 'BGR') {
    defMean.reverse();
    defStd.reverse();
  }
  const expand = (field: 'mean' | 'std', v: readonly number[] | undefined, def: number[]): number[] => {
    const a = v === undefined ? def : [...v];
    if (a.length !== 1 && a.length !== c) {
      throw bad(
        field,
        `preprocess.${field} has ${a.length} values but channels '${channels}' gives ${c} channel(s)`,
        `pass ${c} value(s) (or 1 for all channels)`,
      );
    }
    if (!a.every(Number.isFinite)) throw bad(field, `preprocess.${field} must be finite numbers`);
    return a.length === c ? a : new Array<number>(c).fill(a[0]);
  };
  const mean = expand('mean', options.mean, defMean);
  const std = expand('std', options.std, defStd);
  if (std.some((x) => x === 0)) throw bad('std', 'preprocess.std must not contain 0');
  const scale = options.scale ?? 1 / 255;
  if (!Number.isFinite(scale) || scale === 0)
    throw bad('scale', `preprocess.scale ${scale} must be a finite non-zero number`);
  const cropFraction = options.cropFraction ?? 0.875;
  if (!(cropFraction > 0 && cropFraction <= 1))
    throw bad('cropFraction', `preprocess.cropFraction ${cropFraction} must be in (0, 1]`);
  return {
    size,
    fit: oneOf('fit', options.fit ?? 'cover', PREPROCESS_FITS),
    mean,
    std,
    layout: oneOf('layout', options.layout ?? 'NCHW', TENSOR_LAYOUTS),
    channels,
    scale,
    cropFraction,
    iccProfile: oneOf('iccProfile', options.iccProfile ?? 'ignore', ICC_PROFILES),
  };
}

/** Per-item input dims for a preprocess: [C, H, W] for NCHW, [H, W, C] for NHWC. */
export function itemDims(pre: Preprocess): [number, number, number] {
  const [h, w] = pre.size;
  const c = channelCount(pre.channels);
  return pre.layout === 'NCHW' ? [c, h, w] : [h, w, c];
}

/**
 * Resolves `options` and checks them against the model input shape (dims, -1 = dynamic).
 * Throws INVALID_ARGUMENT saying what does not match: rank, channel count vs `channels`, layout,
 * size vs the model's H×W. Returns the resolved preprocess.
 */
export function validatePreprocess(options: PreprocessOptions, input: TensorInfo | readonly number[]): Preprocess {
  const pre = resolvePreprocess(options);
  const dims = 'dims' in input ? input.dims : input;
  const name = 'name' in input ? `model input '${input.name}'` : 'model input';
  const shape = formatDims(dims);
  if (dims.length !== 4) {
    throw bad(
      'layout',
      `${name} has shape ${shape} (rank ${dims.length}); an image model needs a rank-4 input`,
      'use a model whose input is [N, C, H, W] or [N, H, W, C]',
      { dims: [...dims] },
    );
  }
  const [cAt, hAt, wAt] = pre.layout === 'NCHW' ? [1, 2, 3] : [3, 1, 2];
  const c = channelCount(pre.channels);
  const known = (d: number) => d > 0;
  if (known(dims[cAt]) && dims[cAt] !== c) {
    const other = pre.layout === 'NCHW' ? 3 : 1;
    if (known(dims[other]) && dims[other] === c) {
      const want = pre.layout === 'NCHW' ? 'NHWC' : 'NCHW';
      throw bad(
        'layout',
        `${name} has shape ${shape}, which is ${want}, but preprocess.layout is '${pre.layout}'`,
        `set layout: '${want}'`,
        { dims: [...dims] },
      );
    }
    const fix =
      dims[cAt] === 1 ? "channels: 'gray'" : dims[cAt] === 3 ? "channels: 'RGB' or 'BGR'" : 'a 1- or 3-channel model';
    throw bad(
      'channels',
      `preprocess.channels '${pre.channels}' gives ${c} channel(s) but ${name} ${shape} expects ${dims[cAt]} (${pre.layout} dim ${cAt})`,
      `use ${fix}`,
      { dims: [...dims] },
    );
  }
  const [h, w] = pre.size;
  if ((known(dims[hAt]) && dims[hAt] !== h) || (known(dims[wAt]) && dims[wAt] !== w)) {
    const mh = known(dims[hAt]) ? dims[hAt] : h;
    const mw = known(dims[wAt]) ? dims[wAt] : w;
    throw bad(
      'size',
      `preprocess.size [${h}, ${w}] does not match ${name} ${shape}: height × width is ${mh} × ${mw}`,
      `set size: [${mh}, ${mw}]`,
      { dims: [...dims] },
    );
  }
  return pre;
}

/** Raw pixels (e.g. a decoded video frame), interleaved, 8-bit. */
export interface RawImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

/**
 * Decodes (JPEG/PNG/WebP/..., EXIF orientation applied, alpha dropped as PIL does, an embedded ICC
 * profile ignored or applied per `pre.iccProfile`) and resizes to
 * `pre.size` with `pre.fit`. Returns HWC uint8 pixels of exactly h × w × (1 for 'gray', else 3),
 * always in RGB order (`toTensor` swaps to BGR). Throws CORRUPT when the bytes do not decode.
 */
export async function resizeForModel(
  source: Uint8Array | RawImage,
  options: PreprocessOptions | Preprocess,
): Promise<Uint8Array> {
  const pre = resolvePreprocess(options);
  const [h, w] = pre.size;
  const warnings: string[] = [];
  const ignoreIcc = pre.iccProfile === 'ignore';
  try {
    const src = mayHaveAlpha(source) ? await dropAlpha(source, ignoreIcc, warnings) : source;
    const img =
      src instanceof Uint8Array
        ? sharp(src, { autoOrient: true, ignoreIcc })
        : sharp(src.data, { raw: { width: src.width, height: src.height, channels: src.channels } });
    img.on('warning', (message: string) => warnings.push(String(message).trim()));
    if (pre.channels === 'gray') img.grayscale();
    else img.toColourspace('srgb');
    if (pre.fit === 'center-crop') {
      let W0: number;
      let H0: number;
      if (src instanceof Uint8Array) {
        const meta = await img.metadata();
        ({ width: W0, height: H0 } = meta.autoOrient);
      } else ({ width: W0, height: H0 } = src);
      const s = Math.max(h / H0, w / W0) / pre.cropFraction;
      const rw = Math.max(w, Math.round(W0 * s));
      const rh = Math.max(h, Math.round(H0 * s));
      img.resize(rw, rh, { fit: 'fill' });
      img.extract({ left: Math.round((rw - w) / 2), top: Math.round((rh - h) / 2), width: w, height: h });
    } else {
      img.resize(w, h, { fit: pre.fit, position: 'centre', background: '#000000' });
    }
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const c = channelCount(pre.channels);
    if (info.width !== w || info.height !== h || info.channels !== c) {
      throw new Error(`resize produced ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×${c}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (err) {
    // libvips details (e.g. "Corrupt JPEG data: ...") arrive as warnings, not in the error message
    // sharp keeps libvips warnings in one process-wide queue, so under concurrent decodes another
    // pipeline may drain them: name the sniffed format and what failOn means so the reason never
    // depends on that race.
    const detail = [...new Set(warnings)].filter((x) => !(err as Error).message.includes(x)).join('; ');
    const header = source instanceof Uint8Array ? sniffImage(source) : undefined;
    const what = header ? `${header.format.toUpperCase()} image (${header.width}×${header.height})` : 'image';
    const flagged = /failOn/.test((err as Error).message) ? 'the decoder reported corrupt pixel data; ' : '';
    throw new StrataError(
      'CORRUPT',
      `cannot decode/resize ${what}: ${flagged}${(err as Error).message}${detail ? ` (${detail})` : ''}`,
      {
        cause: err,
        warnings,
        hint: 'the image bytes are damaged or in an unsupported format',
      },
    );
  }
}

/** Whether `source` has, or may have, an alpha channel (an unrecognised header counts as may). */
function mayHaveAlpha(source: Uint8Array | RawImage): boolean {
  if (!(source instanceof Uint8Array)) return source.channels === 2 || source.channels === 4;
  const header = sniffImage(source);
  return header === undefined || header.channels === 4;
}

/**
 * The pixels with alpha dropped, decoded as for the model (EXIF orientation, ICC per `ignoreIcc`).
 * Dropped, not composited, and before resizing: PIL's convert('RGB') (torchvision's loader) keeps
 * the colour values of transparent pixels, which sharp's resize would premultiply away.
 */
async function dropAlpha(source: Uint8Array | RawImage, ignoreIcc: boolean, warnings: string[]): Promise<RawImage> {
  const img =
    source instanceof Uint8Array
      ? sharp(source, { autoOrient: true, ignoreIcc })
      : sharp(source.data, { raw: { width: source.width, height: source.height, channels: source.channels } });
  img.on('warning', (message: string) => warnings.push(String(message).trim()));
  const { data, info } = await img.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: info.channels as 1 | 3,
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The first hw & ~3 pixels of RGB bytes `src` (byteOffset a multiple of 4) through lookup tables
 * t0..t2 (one per source byte of a pixel) into planes at o0..o2 of `y`; returns the pixels done.
 * Reading 12 bytes as three words and splitting them with shifts is ~2.5× faster than byte reads.
 */
function packRgbWords(
  y: Float32Array,
  src: Uint8Array,
  hw: number,
  t0: Float32Array,
  t1: Float32Array,
  t2: Float32Array,
  o0: number,
  o1: number,
  o2: number,
): number {
  const n = hw & ~3;
  const w = new Uint32Array(src.buffer, src.byteOffset, (n * 3) >> 2);
  const y0 = y.subarray(o0, o0 + n);
  const y1 = y.subarray(o1, o1 + n);
  const y2 = y.subarray(o2, o2 + n);
  for (let p = 0, q = 0; p < n; p += 4, q += 3) {
    const a = w[q];
    const b = w[q + 1];
    const c = w[q + 2];
    y0[p] = t0[a & 255];
    y1[p] = t1[(a >>> 8) & 255];
    y2[p] = t2[(a >>> 16) & 255];
    y0[p + 1] = t0[a >>> 24];
    y1[p + 1] = t1[b & 255];
    y2[p + 1] = t2[(b >>> 8) & 255];
    y0[p + 2] = t0[(b >>> 16) & 255];
    y1[p + 2] = t1[b >>> 24];
    y2[p + 2] = t2[c & 255];
    y0[p + 3] = t0[(c >>> 8) & 255];
    y1[p + 3] = t1[(c >>> 16) & 255];
    y2[p + 3] = t2[c >>> 24];
  }
  return n;
}

/**
 * Packs HWC uint8 images (h × w × 3 RGB, or h × w × 1 gray; see resizeForModel) into one float32
 * batch in the model's layout, applying channel order, scale and mean/std through a 256-entry
 * lookup table per channel. Gray from RGB uses luma 0.299 R + 0.587 G + 0.114 B; RGB/BGR from gray
 * repeats the gray value. Pass `out` (n × C × H × W floats) to reuse a buffer.
 */
export function toTensor(
  hwcImages: readonly Uint8Array[],
  options: PreprocessOptions | Preprocess,
  out?: Float32Array,
): Float32Array {
  const pre = resolvePreprocess(options);
  const [h, w] = pre.size;
  const hw = h * w;
  const c = channelCount(pre.channels);
  const per = hw * c;
  const n = hwcImages.length;
  if (out !== undefined && out.length < n * per) {
    throw bad('out', `output buffer has ${out.length} floats, needs ${n * per}`);
  }
  const y = out ?? new Float32Array(n * per);
  const a = pre.mean.map((_, k) => pre.scale / pre.std[k]);
  const b = pre.mean.map((m, k) => -m / pre.std[k]);
  const lut = new Float32Array(256 * c);
  for (let k = 0; k < c; k++) for (let v = 0; v < 256; v++) lut[k * 256 + v] = v * a[k] + b[k];
  const nchw = pre.layout === 'NCHW';
  // [stride between tensor channels, stride between pixels] in the output item
  const cs = nchw ? hw : 1;
  const ps = nchw ? 1 : c;
  for (let i = 0; i < n; i++) {
    const src = hwcImages[i];
    const base = i * per;
    const sc = src.length / hw;
    if (sc !== 1 && sc !== 3) {
      throw bad(
        'size',
        `image ${i} has ${src.length} bytes; expected ${hw} (gray) or ${hw * 3} (RGB) for ${h}×${w}`,
        'pass the output of resizeForModel with the same preprocess',
        { row: i },
      );
    }
    if (c === 1 && sc === 3) {
      for (let p = 0, q = 0; p < hw; p++, q += 3) {
        const luma = 0.299 * src[q] + 0.587 * src[q + 1] + 0.114 * src[q + 2];
        y[base + p] = luma * a[0] + b[0];
      }
      continue;
    }
    if (c === 3 && sc === 3) {
      // one pass over the pixels (the hot path: RGB/BGR models fed RGB pixels)
      const bgr = pre.channels === 'BGR';
      const t0 = lut.subarray(bgr ? 512 : 0, bgr ? 768 : 256);
      const t1 = lut.subarray(256, 512);
      const t2 = lut.subarray(bgr ? 0 : 512, bgr ? 256 : 768);
      const o0 = base + (bgr ? 2 : 0) * cs;
      const o1 = base + cs;
      const o2 = base + (bgr ? 0 : 2) * cs;
      // NCHW from 4-byte aligned pixels: four pixels per three word reads; the rest byte by byte
      const start =
        nchw && LITTLE_ENDIAN && (src.byteOffset & 3) === 0 ? packRgbWords(y, src, hw, t0, t1, t2, o0, o1, o2) : 0;
      for (let p = start, q = 3 * start, o = start * ps; p < hw; p++, q += 3, o += ps) {
        y[o0 + o] = t0[src[q]];
        y[o1 + o] = t1[src[q + 1]];
        y[o2 + o] = t2[src[q + 2]];
      }
      continue;
    }
    for (let k = 0; k < c; k++) {
      const from = sc === 1 ? 0 : pre.channels === 'BGR' ? 2 - k : k;
      const t = lut.subarray(k * 256, k * 256 + 256);
      let o = base + k * cs;
      for (let q = from; q < src.length; q += sc, o += ps) y[o] = t[src[q]];
    }
  }
  return y;
}
