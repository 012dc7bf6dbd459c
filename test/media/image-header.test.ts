import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertImage,
  assertVideo,
  checkImageIntegrity,
  checkVideoIntegrity,
  decodeImage,
  sniffImage,
  sniffVideo,
} from '../../src/media/index.js';
import {
  flipByte,
  makeBmp,
  makeGif,
  makeJpeg,
  makePng,
  makeTiff,
  makeVideo,
  makeWebp,
  truncate,
} from '../helpers/media.js';

const W = 67;
const H = 41;

interface Case {
  name: string;
  format: string;
  channels: number;
  make: () => Promise<Uint8Array> | Uint8Array;
}

const CASES: Case[] = [
  { name: 'jpeg rgb', format: 'jpeg', channels: 3, make: () => makeJpeg({ width: W, height: H, seed: 1 }) },
  {
    name: 'jpeg grey',
    format: 'jpeg',
    channels: 1,
    make: () => makeJpeg({ width: W, height: H, seed: 2, channels: 1 }),
  },
  { name: 'png rgb', format: 'png', channels: 3, make: () => makePng({ width: W, height: H, seed: 3 }) },
  { name: 'png grey', format: 'png', channels: 1, make: () => makePng({ width: W, height: H, seed: 4, channels: 1 }) },
  { name: 'png rgba', format: 'png', channels: 4, make: () => makePng({ width: W, height: H, seed: 5, channels: 4 }) },
  {
    name: 'png palette',
    format: 'png',
    channels: 3,
    make: () => makePng({ width: W, height: H, seed: 6, palette: true }),
  },
  {
    name: 'png palette+tRNS',
    format: 'png',
    channels: 4,
    make: () => makePng({ width: W, height: H, seed: 6, channels: 4, palette: true }),
  },
  { name: 'webp lossy (VP8)', format: 'webp', channels: 3, make: () => makeWebp({ width: W, height: H, seed: 7 }) },
  {
    name: 'webp lossless (VP8L)',
    format: 'webp',
    channels: 3,
    make: () => makeWebp({ width: W, height: H, seed: 8, lossless: true }),
  },
  {
    name: 'webp alpha (VP8X)',
    format: 'webp',
    channels: 4,
    make: () => makeWebp({ width: W, height: H, seed: 9, channels: 4 }),
  },
  { name: 'gif', format: 'gif', channels: 3, make: () => makeGif({ width: W, height: H, seed: 10 }) },
  {
    name: 'gif transparent',
    format: 'gif',
    channels: 4,
    make: () => makeGif({ width: W, height: H, seed: 10, channels: 4 }),
  },
  { name: 'tiff', format: 'tiff', channels: 3, make: () => makeTiff({ width: W, height: H, seed: 11 }) },
  {
    name: 'tiff grey',
    format: 'tiff',
    channels: 1,
    make: () => makeTiff({ width: W, height: H, seed: 12, channels: 1 }),
  },
  { name: 'bmp', format: 'bmp', channels: 3, make: () => makeBmp({ width: W, height: H, seed: 13 }) },
];

const files = new Map<string, Uint8Array>();

beforeAll(async () => {
  for (const c of CASES) files.set(c.name, await c.make());
});

describe('sniffImage', () => {
  it.each(CASES)('$name: format, size and channels from the header', async (c) => {
    const bytes = files.get(c.name)!;
    expect(sniffImage(bytes)).toEqual({ format: c.format, width: W, height: H, channels: c.channels });
    if (c.format === 'bmp') return; // libvips cannot decode BMP
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height]).toEqual([W, H]);
    // The header's channel count is what decodeImage returns by default.
    const decoded = await decodeImage(bytes);
    expect(decoded.shape).toEqual([H, W, c.channels]);
  });

  it('reads the header from a prefix (no need for the whole file), except TIFF whose IFD may sit at the end', () => {
    for (const c of CASES.filter((x) => x.format !== 'tiff')) {
      expect(sniffImage(truncate(files.get(c.name)!, 1024))?.width, c.name).toBe(W);
    }
  });

  it('returns undefined for non-images and cut headers', () => {
    expect(sniffImage(new Uint8Array(0))).toBeUndefined();
    expect(sniffImage(new TextEncoder().encode('hello, this is not an image at all'))).toBeUndefined();
    expect(sniffImage(truncate(files.get('jpeg rgb')!, 20))).toBeUndefined();
    expect(sniffImage(truncate(files.get('png rgb')!, 20))).toBeUndefined();
    expect(sniffImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 2, 0xff, 0xd9, 0, 0, 0, 0]))).toBeUndefined();
  });
});

describe('checkImageIntegrity', () => {
  it.each(CASES)('$name: intact file passes; truncated file fails', (c) => {
    const bytes = files.get(c.name)!;
    const ok = checkImageIntegrity(bytes);
    expect(ok.ok).toBe(true);
    const cut = checkImageIntegrity(truncate(bytes, Math.floor(bytes.length * 0.8)));
    expect(cut.ok).toBe(false);
  });

  it('detects a JPEG without EOI and a PNG without IEND', () => {
    const jpeg = files.get('jpeg rgb')!;
    const png = files.get('png rgb')!;
    expect(checkImageIntegrity(truncate(jpeg, -2))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('EOI') as unknown,
    });
    expect(checkImageIntegrity(truncate(png, -12))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('IEND') as unknown,
    });
  });

  it('accepts trailing bytes after the JPEG EOI (camera trailers)', () => {
    const jpeg = files.get('jpeg rgb')!;
    const padded = new Uint8Array(jpeg.length + 100);
    padded.set(jpeg);
    expect(checkImageIntegrity(padded).ok).toBe(true);
  });

  it('detects a flipped byte inside PNG data by CRC', () => {
    const png = files.get('png rgb')!;
    expect(checkImageIntegrity(flipByte(png, png.length >> 1))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('CRC') as unknown,
    });
  });

  it('assertImage raises INVALID_ARGUMENT naming row, column and file', () => {
    const bad = truncate(files.get('jpeg rgb')!, 300);
    expect(() => assertImage(bad, { column: 'image', row: 7, file: 'cats/1.jpg' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        details: expect.objectContaining({ column: 'image', row: 7, file: 'cats/1.jpg' }) as unknown,
      }),
    );
    expect(assertImage(files.get('png rgb')!)).toMatchObject({ format: 'png', width: W });
  });
});

describe('sniffVideo / checkVideoIntegrity', () => {
  const videos = new Map<string, Uint8Array>();
  beforeAll(async () => {
    for (const format of ['mp4', 'mov', 'mkv', 'webm'] as const) {
      videos.set(format, await makeVideo({ frames: 6, fps: 10, width: 32, height: 24, format }));
    }
    videos.set(
      'mp4-faststart',
      await makeVideo({ frames: 6, fps: 10, width: 32, height: 24, format: 'mp4', faststart: true }),
    );
  });

  it('identifies containers from the first bytes', () => {
    for (const format of ['mp4', 'mov', 'mkv', 'webm']) {
      expect(sniffVideo(truncate(videos.get(format)!, 64)), format).toBe(format);
    }
    expect(sniffVideo(new Uint8Array(64))).toBeUndefined();
    expect(sniffVideo(files.get('jpeg rgb')!)).toBeUndefined();
  });

  it('passes intact videos and fails truncated ones', () => {
    for (const [name, bytes] of videos) {
      expect(checkVideoIntegrity(bytes).ok, name).toBe(true);
      expect(checkVideoIntegrity(truncate(bytes, Math.floor(bytes.length * 0.7))).ok, name).toBe(false);
    }
  });

  it('assertVideo raises INVALID_ARGUMENT with the row', () => {
    const bad = truncate(videos.get('mp4')!, 500);
    expect(() => assertVideo(bad, { row: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ row: 2 }) as unknown }),
    );
  });
});
