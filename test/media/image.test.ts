import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  configureSharp,
  decodeImage,
  sharpSettings,
  sniffImage,
  thumbnail,
  type DecodedImage,
} from '../../src/media/index.js';
import { flipByte, makeBmp, makeJpeg, makePng, makeWebp, truncate } from '../helpers/media.js';

let jpeg: Uint8Array;
let png: Uint8Array;
let rgba: Uint8Array;
let grey: Uint8Array;

beforeAll(async () => {
  jpeg = await makeJpeg({ width: 160, height: 120, seed: 1 });
  png = await makePng({ width: 96, height: 64, seed: 2 });
  rgba = await makePng({ width: 40, height: 30, seed: 3, channels: 4 });
  grey = await makePng({ width: 50, height: 20, seed: 4, channels: 1 });
});

/** The reference: a direct sharp call. */
async function direct(img: Sharp): Promise<DecodedImage> {
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), shape: [info.height, info.width, info.channels], dtype: 'uint8' };
}

function expectSame(a: DecodedImage, b: DecodedImage): void {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe('uint8');
  expect(a.data.length).toBe(a.shape[0] * a.shape[1] * a.shape[2]);
  expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
}

describe('decodeImage', () => {
  it('decodes to HWC uint8 identical to sharp', async () => {
    expectSame(await decodeImage(jpeg), await direct(sharp(jpeg)));
    expectSame(await decodeImage(png), await direct(sharp(png)));
    expectSame(await decodeImage(rgba), await direct(sharp(rgba)));
  });

  it.each(['cover', 'contain', 'fill', 'inside'] as const)('resize fit %s matches sharp', async (fit) => {
    const got = await decodeImage(jpeg, { resize: { width: 64, height: 64, fit } });
    const want = await direct(
      sharp(jpeg).resize({ width: 64, height: 64, fit, background: { r: 0, g: 0, b: 0, alpha: 1 } }),
    );
    expectSame(got, want);
    expect(got.shape).toEqual(fit === 'inside' ? [48, 64, 3] : [64, 64, 3]);
  });

  it('crops in source pixels, before resizing', async () => {
    const crop = { left: 10, top: 20, width: 50, height: 40 };
    expectSame(await decodeImage(jpeg, { crop }), await direct(sharp(jpeg).extract(crop)));
    expectSame(
      await decodeImage(jpeg, { crop, resize: { width: 25, height: 20, fit: 'fill' } }),
      await direct(sharp(jpeg).extract(crop).resize({ width: 25, height: 20, fit: 'fill' })),
    );
  });

  it('grayscale gives one channel like sharp', async () => {
    const got = await decodeImage(jpeg, { grayscale: true });
    expect(got.shape).toEqual([120, 160, 1]);
    expectSame(got, await direct(sharp(jpeg).grayscale()));
    expect((await decodeImage(rgba, { channels: 1 })).shape).toEqual([30, 40, 1]);
  });

  it('keeps native channels by default and converts on request', async () => {
    expect((await decodeImage(grey)).shape).toEqual([20, 50, 1]);
    expect((await decodeImage(grey, { channels: 3 })).shape).toEqual([20, 50, 3]);
    const rgb = await decodeImage(rgba, { channels: 3 });
    expect(rgb.shape).toEqual([30, 40, 3]);
    expectSame(rgb, await direct(sharp(rgba).removeAlpha()));
    expect((await decodeImage(jpeg, { channels: 4 })).shape).toEqual([120, 160, 4]);
  });

  it('decodes webp', async () => {
    const webp = await makeWebp({ width: 33, height: 17, seed: 5 });
    expectSame(await decodeImage(webp), await direct(sharp(webp)));
  });

  it('raises CORRUPT naming row and column for truncated JPEG and PNG', async () => {
    const context = { column: 'image', row: 12, file: 'a/b.jpg' };
    for (const bad of [
      truncate(jpeg, Math.floor(jpeg.length * 0.6)),
      truncate(jpeg, -2),
      truncate(png, Math.floor(png.length * 0.6)),
    ]) {
      await expect(decodeImage(bad, {}, context)).rejects.toMatchObject({
        code: 'CORRUPT',
        details: { column: 'image', row: 12, file: 'a/b.jpg' },
      });
    }
  });

  it('raises CORRUPT for damaged data and for bytes that are not an image', async () => {
    await expect(decodeImage(flipByte(png, png.length >> 1), {}, { row: 1 })).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { row: 1 },
    });
    // A JPEG whose frame header (SOF0) claims zero components.
    const sof = Buffer.from(jpeg).indexOf(Buffer.from([0xff, 0xc0]));
    const badSof = jpeg.slice();
    badSof[sof + 9] = 0;
    await expect(decodeImage(badSof)).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(decodeImage(new TextEncoder().encode('not an image'))).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(decodeImage(new Uint8Array(0))).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('raises UNSUPPORTED for BMP (no decoder in libvips)', async () => {
    const bmp = makeBmp({ width: 8, height: 8, color: [1, 2, 3] });
    expect(sniffImage(bmp)?.format).toBe('bmp');
    await expect(decodeImage(bmp)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    await expect(decodeImage(jpeg, { crop: { left: 150, top: 0, width: 20, height: 10 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(decodeImage(jpeg, { resize: { width: 0, height: 10 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      decodeImage(jpeg, { resize: { width: 10, height: 10, fit: 'stretch' as 'fill' } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(decodeImage(jpeg, { channels: 2 as 3 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const aborted = AbortSignal.abort();
    await expect(decodeImage(jpeg, { signal: aborted })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('thumbnail', () => {
  it('returns a JPEG within maxSide, keeping the aspect ratio and never enlarging', async () => {
    const t = await thumbnail(jpeg, 64);
    expect(sniffImage(t)).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
    const small = await thumbnail(rgba, 256);
    expect(sniffImage(small)).toMatchObject({ format: 'jpeg', width: 40, height: 30, channels: 3 });
  });

  it('raises CORRUPT for damaged input', async () => {
    await expect(thumbnail(truncate(jpeg, 500), 64, {}, { row: 3 })).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { row: 3 },
    });
  });
});

describe('configureSharp', () => {
  it('applies and reports settings', () => {
    const s = configureSharp({ concurrency: 2 });
    expect(s).toMatchObject({ concurrency: 2, cache: false });
    expect(s.threadpoolSize).toBeGreaterThan(0);
    expect(s.cores).toBeGreaterThan(0);
    expect(configureSharp()).toMatchObject({ concurrency: 1, cache: false });
    expect(sharpSettings().concurrency).toBe(1);
    expect(() => configureSharp({ concurrency: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
