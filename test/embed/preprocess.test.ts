/** toTensor against a plain per-value reference: every layout/channel order, odd sizes, unaligned pixel buffers. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { resizeForModel, resolvePreprocess, toTensor } from '../../src/embed/preprocess.js';

/** h × w RGB pixels at byte offset `offset` of a larger buffer (unaligned when offset % 4 ≠ 0). */
function pixels(h: number, w: number, seed: number, offset: number): Uint8Array {
  const buf = new Uint8Array(offset + h * w * 3 + 5);
  let s = seed;
  for (let i = 0; i < buf.length; i++) buf[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return buf.subarray(offset, offset + h * w * 3);
}

function reference(
  images: Uint8Array[],
  h: number,
  w: number,
  channels: 'RGB' | 'BGR',
  layout: 'NCHW' | 'NHWC',
  scale: number,
  mean: number[],
  std: number[],
): Float64Array {
  const per = h * w * 3;
  const y = new Float64Array(images.length * per);
  images.forEach((src, i) => {
    for (let p = 0; p < h * w; p++) {
      for (let c = 0; c < 3; c++) {
        const v = src[p * 3 + (channels === 'BGR' ? 2 - c : c)];
        const at = i * per + (layout === 'NCHW' ? c * h * w + p : p * 3 + c);
        y[at] = (v * scale - mean[c]) / std[c];
      }
    }
  });
  return y;
}

describe('toTensor', () => {
  it('equals the per-value formula for every layout and channel order, odd sizes and unaligned buffers', () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (const [h, w] of [
      [5, 3],
      [4, 4],
      [7, 9],
      [1, 1],
      [2, 6],
    ] as const) {
      for (const channels of ['RGB', 'BGR'] as const) {
        for (const layout of ['NCHW', 'NHWC'] as const) {
          const images = [0, 1, 2, 3, 4].map((offset) => pixels(h, w, 7 * h + w + offset, offset));
          const pre = resolvePreprocess({ size: [h, w], channels, layout, mean, std, scale: 1 / 255 });
          const got = toTensor(images, pre);
          const want = reference(images, h, w, channels, layout, 1 / 255, pre.mean as number[], pre.std as number[]);
          expect(got.length).toBe(want.length);
          let worst = 0;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
          expect(worst, `${h}×${w} ${channels} ${layout}`).toBeLessThan(1e-5);
        }
      }
    }
  });
});

describe("resizeForModel gives PIL's pixels for images with alpha", () => {
  // PIL's convert('RGB'), torchvision's loader, drops alpha and keeps the colour of transparent pixels
  const [h, w] = [24, 40];
  const rgba = new Uint8Array(h * w * 4);
  for (let p = 0; p < h * w; p++)
    rgba.set([(p * 7) % 256, (p * 13) % 256, (p * 29) % 256, p % w < 10 ? 0 : 128], p * 4);
  const rgb = Uint8Array.from({ length: h * w * 3 }, (_, i) => rgba[Math.floor(i / 3) * 4 + (i % 3)]);

  it('an RGBA PNG with transparent and translucent pixels: alpha dropped, colours kept exactly', async () => {
    const png = new Uint8Array(
      await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
        .png()
        .toBuffer(),
    );
    for (const fit of ['fill', 'center-crop'] as const) {
      const px = await resizeForModel(png, { size: [h, w], fit, cropFraction: 1 });
      expect(Buffer.from(px).equals(Buffer.from(rgb)), fit).toBe(true);
    }
  });

  it('raw RGBA pixels likewise', async () => {
    const px = await resizeForModel({ data: rgba, width: w, height: h, channels: 4 }, { size: [h, w], fit: 'fill' });
    expect(Buffer.from(px).equals(Buffer.from(rgb))).toBe(true);
  });
});
