import * as zlib from 'node:zlib';
import { contextDetails, describeContext, type MediaContext } from './context.js';
import { StrataError } from '../errors.js';
import { ascii, u16be, u16le, u32be, u32le, vint } from './bytes.js';
import {
  readTiffIfd,
  sniffImage,
  sniffVideo,
  TIFF_TAG,
  walkGif,
  type ImageHeader,
  type VideoFormat,
} from './image-header.js';

/**
 * Append-time structural checks: they walk the container structure (segments, chunks, boxes)
 * without decoding pixels, so they catch truncated files (a JPEG without EOI, a PNG without IEND,
 * an MP4 whose last box runs past the end) and PNG chunk CRC errors in well under a millisecond
 * for typical files. They cannot see damage inside compressed data that still parses (a flipped
 * bit in JPEG entropy data); decoding reports that as CORRUPT where the codec notices.
 */
export type IntegrityResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly value?: T; readonly reason: string };

const TRUNCATED = 'file is truncated';

let crcTable: Uint32Array | undefined;
/** CRC-32 (zlib's): node:zlib's native one where available (Node >= 20.15), else a table. */
function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function checkImageIntegrity(bytes: Uint8Array): IntegrityResult<ImageHeader> {
  const header = sniffImage(bytes);
  if (!header)
    return { ok: false, reason: 'not a recognised image (jpeg, png, webp, gif, tiff, bmp) or header cut short' };
  const problem = imageProblem(header, bytes);
  return problem ? { ok: false, value: header, reason: problem } : { ok: true, value: header };
}

function imageProblem(h: ImageHeader, b: Uint8Array): string | undefined {
  switch (h.format) {
    case 'jpeg':
      return jpegProblem(b);
    case 'png':
      return pngProblem(b);
    case 'gif':
      return gifProblem(b);
    case 'webp':
      return 8 + u32le(b, 4) > b.length
        ? `${TRUNCATED}: RIFF declares ${8 + u32le(b, 4)} bytes, have ${b.length}`
        : undefined;
    case 'tiff':
      return tiffProblem(b);
    case 'bmp':
      return bmpProblem(h, b);
  }
}

/** Segments up to SOS, then entropy-coded data to the next marker, until EOI. */
function jpegProblem(b: Uint8Array): string | undefined {
  let o = 2;
  for (;;) {
    if (o + 2 > b.length) return `${TRUNCATED}: no EOI marker`;
    if (b[o] !== 0xff) return `expected a JPEG marker at byte ${o}`;
    const m = b[o + 1];
    if (m === 0xff) {
      o += 1;
      continue;
    }
    if (m === 0xd9) return undefined;
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      o += 2;
      continue;
    }
    if (o + 4 > b.length) return `${TRUNCATED}: no EOI marker`;
    o += 2 + u16be(b, o + 2);
    if (o > b.length) return `${TRUNCATED}: segment 0xff${m.toString(16)} runs past the end`;
    if (m !== 0xda) continue;
    // Entropy-coded data: FF00 is a stuffed byte, FFD0-D7 a restart marker, FFFF fill.
    for (;;) {
      o = b.indexOf(0xff, o);
      if (o < 0 || o + 1 >= b.length) return `${TRUNCATED}: no EOI marker`;
      const n = b[o + 1];
      if (n === 0x00 || (n >= 0xd0 && n <= 0xd7)) o += 2;
      else if (n === 0xff) o += 1;
      else break;
    }
  }
}

function pngProblem(b: Uint8Array): string | undefined {
  for (let o = 8; ;) {
    if (o + 12 > b.length) return `${TRUNCATED}: no IEND chunk`;
    const len = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    if (o + 12 + len > b.length) return `${TRUNCATED}: chunk ${type} runs past the end`;
    if (crc32(b.subarray(o + 4, o + 8 + len)) !== u32be(b, o + 8 + len))
      return `CRC mismatch in chunk ${type} at byte ${o}`;
    if (type === 'IEND') return undefined;
    o += 12 + len;
  }
}

function gifProblem(b: Uint8Array): string | undefined {
  const walk = walkGif(b);
  return walk.error ?? (walk.complete ? undefined : `${TRUNCATED}: no GIF trailer`);
}

function tiffProblem(b: Uint8Array): string | undefined {
  const ifd = readTiffIfd(b);
  if (!ifd) return `${TRUNCATED}: first IFD missing`;
  const offsets = ifd.tags.get(TIFF_TAG.stripOffsets) ?? ifd.tags.get(TIFF_TAG.tileOffsets);
  const sizes = ifd.tags.get(TIFF_TAG.stripBytes) ?? ifd.tags.get(TIFF_TAG.tileBytes);
  if (!offsets || !sizes) return 'TIFF has no strip or tile offsets';
  for (let i = 0; i < offsets.length; i++) {
    if (offsets[i] + (sizes[i] ?? 0) > b.length) return `${TRUNCATED}: strip ${i} runs past the end`;
  }
  return undefined;
}

function bmpProblem(h: ImageHeader, b: Uint8Array): string | undefined {
  const dataOffset = u32le(b, 10);
  const compression = u32le(b, 14) >= 40 ? u32le(b, 30) : 0;
  const bpp = u32le(b, 14) >= 40 ? u16le(b, 28) : u16le(b, 24);
  if (compression !== 0 && compression !== 3) return undefined; // RLE: size not derivable cheaply
  const stride = Math.floor((bpp * h.width + 31) / 32) * 4;
  const need = dataOffset + stride * h.height;
  return need > b.length ? `${TRUNCATED}: pixel data needs ${need} bytes, have ${b.length}` : undefined;
}

/**
 * MP4/MOV: every top-level box must fit in the file and a `moov` box must exist (a recording that
 * was never finalised has none). WebM/MKV: the Segment must fit when its size is declared.
 */
export function checkVideoIntegrity(bytes: Uint8Array): IntegrityResult<VideoFormat> {
  const format = sniffVideo(bytes);
  if (!format) return { ok: false, reason: 'not a recognised video container (mp4, mov, webm, mkv)' };
  const problem = format === 'mp4' || format === 'mov' ? isoBmffProblem(bytes) : ebmlProblem(bytes);
  return problem ? { ok: false, value: format, reason: problem } : { ok: true, value: format };
}

function isoBmffProblem(b: Uint8Array): string | undefined {
  let moov = false;
  for (let o = 0; o < b.length;) {
    if (o + 8 > b.length) return `${TRUNCATED}: box header cut at byte ${o}`;
    let size = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    if (type === 'moov') moov = true;
    if (size === 0) break; // box runs to the end of the file
    if (size === 1) {
      if (o + 16 > b.length) return `${TRUNCATED}: box header cut at byte ${o}`;
      size = u32be(b, o + 8) * 2 ** 32 + u32be(b, o + 12);
    }
    if (size < 8) return `invalid box size ${size} at byte ${o}`;
    if (o + size > b.length) return `${TRUNCATED}: box '${type}' needs ${o + size} bytes, have ${b.length}`;
    o += size;
  }
  return moov ? undefined : `no 'moov' box (recording not finalised, or file truncated)`;
}

function ebmlProblem(b: Uint8Array): string | undefined {
  const headerSize = vint(b, 4, false);
  if (!headerSize) return `${TRUNCATED}: EBML header cut`;
  const o = 4 + headerSize[1] + headerSize[0];
  const id = vint(b, o, true);
  if (!id || id[0] !== 0x18538067) return id ? 'no Segment after the EBML header' : `${TRUNCATED}: no Segment`;
  const size = vint(b, o + id[1], false);
  if (!size) return `${TRUNCATED}: Segment header cut`;
  const unknown = size[0] === 2 ** (7 * size[1]) - 1;
  const end = o + id[1] + size[1] + size[0];
  return !unknown && end > b.length ? `${TRUNCATED}: Segment needs ${end} bytes, have ${b.length}` : undefined;
}

/** Append-time check: the header, or INVALID_ARGUMENT naming the row/column/file and the problem. */
export function assertImage(bytes: Uint8Array, context: MediaContext = {}): ImageHeader {
  const r = checkImageIntegrity(bytes);
  if (r.ok) return r.value;
  throw new StrataError('INVALID_ARGUMENT', `invalid image${describeContext(context)}: ${r.reason}`, {
    ...contextDetails(context),
    hint: 'replace or re-export the file, or skip this sample',
  });
}

/** Append-time check for stored videos; INVALID_ARGUMENT like {@link assertImage}. */
export function assertVideo(bytes: Uint8Array, context: MediaContext = {}): VideoFormat {
  const r = checkVideoIntegrity(bytes);
  if (r.ok) return r.value;
  throw new StrataError('INVALID_ARGUMENT', `invalid video${describeContext(context)}: ${r.reason}`, {
    ...contextDetails(context),
    hint: 'replace or re-encode the file, or skip this sample',
  });
}
