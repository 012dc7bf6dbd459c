/**
 * Images with an embedded ICC profile (here Display P3) decode to the pixels PIL gives — PIL, and so
 * torchvision's loader, ignores the profile — unless colour conversion is asked for. The fixtures
 * and the PIL pixels are committed (test/media/fixtures/make-icc-fixtures.ts, pil-pixels.py).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resizeForModel } from '../../src/embed/preprocess.js';
import { decodeImage } from '../../src/media/index.js';

const fixtures = join(import.meta.dirname, 'fixtures');

interface PilPixels {
  readonly width: number;
  readonly height: number;
  readonly rgb: string;
}

async function fixture(name: string): Promise<{ bytes: Uint8Array; pil: PilPixels; pilRgb: Buffer }> {
  const bytes = await readFile(join(fixtures, name));
  const pil = JSON.parse(await readFile(join(fixtures, `${name}.pil.json`), 'utf8')) as PilPixels;
  return { bytes, pil, pilRgb: Buffer.from(pil.rgb, 'base64') };
}

/** Largest per-channel difference. */
function maxDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(['p3.jpg', 'p3.png'])('ICC-tagged %s', (name) => {
  it('carries a Display P3 profile', async () => {
    const { bytes } = await fixture(name);
    const meta = await sharp(bytes).metadata();
    expect(meta.icc?.length).toBeGreaterThan(0);
  });

  it("decodeImage gives PIL's pixels exactly (the profile is ignored by default)", async () => {
    const { bytes, pil, pilRgb } = await fixture(name);
    const img = await decodeImage(bytes, { channels: 3 });
    expect(img.shape).toEqual([pil.height, pil.width, 3]);
    expect(maxDiff(img.data, pilRgb)).toBe(0);
    expect(maxDiff((await decodeImage(bytes, { iccProfile: 'ignore' })).data, pilRgb)).toBe(0);
  });

  it("resizeForModel (the embedding job's decode) gives PIL's pixels exactly at the image's own size", async () => {
    const { bytes, pil, pilRgb } = await fixture(name);
    const px = await resizeForModel(bytes, { size: [pil.height, pil.width], fit: 'fill' });
    expect(maxDiff(px, pilRgb)).toBe(0);
  });

  it("iccProfile 'srgb' converts to sRGB: far from PIL's pixels, the same in both decoders", async () => {
    const { bytes, pil, pilRgb } = await fixture(name);
    const converted = await decodeImage(bytes, { channels: 3, iccProfile: 'srgb' });
    expect(maxDiff(converted.data, pilRgb)).toBeGreaterThan(50);
    const px = await resizeForModel(bytes, { size: [pil.height, pil.width], fit: 'fill', iccProfile: 'srgb' });
    expect(maxDiff(px, converted.data)).toBe(0);
  });
});

it('an unknown iccProfile is INVALID_ARGUMENT naming the field', async () => {
  const { bytes } = await fixture('p3.png');
  await expect(decodeImage(bytes, { iccProfile: 'p3' as 'srgb' })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    details: { field: 'iccProfile' },
  });
  await expect(resizeForModel(bytes, { iccProfile: 'keep' as 'srgb' })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    details: { field: 'preprocess.iccProfile' },
  });
});
