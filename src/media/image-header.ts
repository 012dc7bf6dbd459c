/**
 * Image and video identification from header bytes only: no pixel is decoded, so these run in
 * microseconds and are safe to call on every append.
 *
 * `channels` is the channel count {@link decodeImage} returns by default for that file (sharp's
 * decoding conventions): grey → 1, RGB → 3, anything with alpha → 4 (including grey+alpha, and a
 * GIF with a transparent colour), CMYK/YCCK JPEG → 3 (converted to sRGB).
 * `width`/`height` are the stored pixel grid; an EXIF orientation is not applied.
 */

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'bmp'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const VIDEO_FORMATS = ['mp4', 'webm', 'mkv', 'mov'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];

export interface ImageHeader {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

import { ascii, i32le, u16be, u16le, u24le, u32be, u32le, vint } from './bytes.js';

const valid = (h: ImageHeader): ImageHeader | undefined =>
  h.width > 0 && h.height > 0 && h.channels > 0 ? h : undefined;

/**
 * Identifies an image and reads its dimensions from the header. Returns undefined for bytes that
 * are not one of {@link IMAGE_FORMATS} or whose header is cut short. It does not prove the pixel
 * data is intact: see {@link checkImageIntegrity}.
 */
export function sniffImage(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 12) return undefined;
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return sniffJpeg(bytes);
  if (u32be(bytes, 0) === 0x89504e47 && u32be(bytes, 4) === 0x0d0a1a0a) return sniffPng(bytes);
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return sniffWebp(bytes);
  const gif = ascii(bytes, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') {
    const channels = walkGif(bytes).transparency ? 4 : 3;
    return valid({ format: 'gif', width: u16le(bytes, 6), height: u16le(bytes, 8), channels });
  }
  if (
    (bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) ||
    (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42)
  ) {
    return sniffTiff(bytes);
  }
  if (bytes[0] === 0x42 && bytes[1] === 0x4d) return sniffBmp(bytes);
  return undefined;
}

/** Walks JPEG segments to the first SOFn marker. */
function sniffJpeg(b: Uint8Array): ImageHeader | undefined {
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return undefined;
    const marker = b[o + 1];
    if (marker === 0xff) {
      o += 1;
      continue;
    } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    } // no length
    if (marker === 0xd9 || marker === 0xda) return undefined; // EOI / SOS before any frame header
    const len = u16be(b, o + 2);
    if (len < 2) return undefined;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (o + 10 > b.length) return undefined;
      const components = b[o + 9];
      return valid({
        format: 'jpeg',
        height: u16be(b, o + 5),
        width: u16be(b, o + 7),
        channels: components === 1 ? 1 : 3,
      });
    }
    o += 2 + len;
  }
  return undefined;
}

/** IHDR, plus a scan of the chunks before IDAT for tRNS (which adds an alpha channel). */
function sniffPng(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') return undefined;
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  const colorType = b[25];
  let trns = false;
  for (let o = 33; o + 8 <= b.length;) {
    const type = ascii(b, o + 4, 4);
    if (type === 'tRNS') {
      trns = true;
      break;
    }
    if (type === 'IDAT' || type === 'IEND') break;
    o += 12 + u32be(b, o);
  }
  const channels = ({ 0: trns ? 4 : 1, 2: trns ? 4 : 3, 3: trns ? 4 : 3, 4: 4, 6: 4 } as Record<number, number>)[
    colorType
  ];
  return channels === undefined ? undefined : valid({ format: 'png', width, height, channels });
}

function sniffWebp(b: Uint8Array): ImageHeader | undefined {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') {
    // Frame tag (3 bytes) at 20, start code 9d 01 2a at 23, then 14-bit width and height.
    if (b.length < 30 || b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return valid({ format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, channels: 3 });
  }
  if (chunk === 'VP8L') {
    if (b.length < 25 || b[20] !== 0x2f) return undefined;
    const bits = u32le(b, 21);
    return valid({
      format: 'webp',
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
      channels: (bits >>> 28) & 1 ? 4 : 3,
    });
  }
  if (chunk === 'VP8X') {
    if (b.length < 30) return undefined;
    return valid({
      format: 'webp',
      width: u24le(b, 24) + 1,
      height: u24le(b, 27) + 1,
      channels: b[20] & 0x10 ? 4 : 3,
    });
  }
  return undefined;
}

export interface GifWalk {
  /** Some frame's Graphic Control Extension declares a transparent colour (libvips then decodes RGBA). */
  readonly transparency: boolean;
  /** The trailer (0x3b) was reached. */
  readonly complete: boolean;
  /** A block that is not a GIF block, with its offset. */
  readonly error?: string;
}

/** Walks GIF blocks (extensions, image descriptors, sub-block chains) without decoding LZW data. */
export function walkGif(b: Uint8Array): GifWalk {
  const subBlocks = (o: number): number => {
    while (o < b.length && b[o] !== 0) o += 1 + b[o];
    return o + 1;
  };
  let transparency = false;
  let o = 13;
  if (b[10] & 0x80) o += 3 * (2 << (b[10] & 7));
  while (o < b.length) {
    const t = b[o];
    if (t === 0x3b) return { transparency, complete: true };
    if (t === 0x21) {
      if (b[o + 1] === 0xf9 && b[o + 2] === 4 && b[o + 3] & 1) transparency = true;
      o = subBlocks(o + 2);
    } else if (t === 0x2c) {
      const flags = b[o + 9];
      o += 10;
      if (flags & 0x80) o += 3 * (2 << (flags & 7));
      o = subBlocks(o + 1);
    } else {
      return { transparency, complete: false, error: `unexpected GIF block 0x${t.toString(16)} at byte ${o}` };
    }
  }
  return { transparency, complete: false };
}

export const TIFF_TAG = {
  width: 256,
  height: 257,
  photometric: 262,
  samples: 277,
  stripOffsets: 273,
  stripBytes: 279,
  tileOffsets: 324,
  tileBytes: 325,
} as const;

export interface TiffIfd {
  readonly tags: Map<number, number[]>;
}

/** Reads the first IFD of a TIFF (it may sit anywhere in the file, often at the end). */
export function readTiffIfd(b: Uint8Array): TiffIfd | undefined {
  const le = b[0] === 0x49;
  const r16 = (o: number): number => (le ? u16le(b, o) : u16be(b, o));
  const r32 = (o: number): number => (le ? u32le(b, o) : u32be(b, o));
  const ifd = r32(4);
  if (ifd < 8 || ifd + 2 > b.length) return undefined;
  const count = r16(ifd);
  if (ifd + 2 + count * 12 > b.length) return undefined;
  const tags = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    const tag = r16(e);
    const type = r16(e + 2);
    const n = r32(e + 4);
    const size = type === 3 ? 2 : type === 4 ? 4 : 0; // SHORT or LONG: all the tags read here
    if (size === 0 || n === 0 || n > 1 << 20) continue;
    const at = n * size <= 4 ? e + 8 : r32(e + 8);
    if (at + n * size > b.length) continue;
    const values: number[] = [];
    for (let k = 0; k < n; k++) values.push(size === 2 ? r16(at + k * 2) : r32(at + k * 4));
    tags.set(tag, values);
  }
  return { tags };
}

function sniffTiff(b: Uint8Array): ImageHeader | undefined {
  const ifd = readTiffIfd(b);
  if (!ifd) return undefined;
  const get = (tag: number, fallback: number): number => ifd.tags.get(tag)?.[0] ?? fallback;
  const samples = get(TIFF_TAG.samples, 1);
  const photometric = get(TIFF_TAG.photometric, 1);
  let channels: number;
  if (photometric <= 1)
    channels = samples >= 2 ? 4 : 1; // grey, grey+alpha → RGBA
  else if (photometric === 2) channels = samples >= 4 ? 4 : 3;
  else channels = 3; // palette, CMYK, YCbCr, CIELab: converted to sRGB
  return valid({ format: 'tiff', width: get(TIFF_TAG.width, 0), height: get(TIFF_TAG.height, 0), channels });
}

function sniffBmp(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 26) return undefined;
  const dib = u32le(b, 14);
  if (dib === 12) {
    return valid({ format: 'bmp', width: u16le(b, 18), height: u16le(b, 20), channels: 3 });
  }
  if (dib < 40 || b.length < 30) return undefined;
  const bpp = u16le(b, 28);
  return valid({
    format: 'bmp',
    width: Math.abs(i32le(b, 18)),
    height: Math.abs(i32le(b, 22)),
    channels: bpp === 32 ? 4 : 3,
  });
}

/**
 * Identifies a video container from its first bytes (64 are enough): ISO-BMFF `ftyp` with brand
 * `qt  ` (or a bare QuickTime atom) → mov, other `ftyp` brands → mp4, EBML with DocType `webm`
 * → webm, other EBML → mkv.
 */
export function sniffVideo(bytes: Uint8Array): VideoFormat | undefined {
  if (bytes.length < 12) return undefined;
  const box = ascii(bytes, 4, 4);
  if (box === 'ftyp') return ascii(bytes, 8, 4) === 'qt  ' ? 'mov' : 'mp4';
  if (box === 'moov' || box === 'mdat' || box === 'wide' || box === 'free' || box === 'skip') return 'mov';
  if (u32be(bytes, 0) === 0x1a45dfa3) return ebmlDocType(bytes) === 'webm' ? 'webm' : 'mkv';
  return undefined;
}

function ebmlDocType(b: Uint8Array): string | undefined {
  const size = vint(b, 4, false);
  if (!size) return undefined;
  const end = Math.min(b.length, 4 + size[1] + size[0]);
  for (let o = 4 + size[1]; o < end;) {
    const id = vint(b, o, true);
    if (!id) return undefined;
    const len = vint(b, o + id[1], false);
    if (!len) return undefined;
    const data = o + id[1] + len[1];
    if (id[0] === 0x4282) return ascii(b, data, Math.min(len[0], end - data)).replace(/\0+$/, '');
    o = data + len[0];
  }
  return undefined;
}
