import sharp from 'sharp';

/** Deterministic RGB test pattern (gradients + stripes) of w × h. */
export function pattern(w: number, h: number, seed: number): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      px[o] = ((x * 255) / Math.max(1, w - 1) + seed * 37) % 256;
      px[o + 1] = ((y * 255) / Math.max(1, h - 1) + seed * 91) % 256;
      px[o + 2] = (x + y + seed) % 16 < 8 ? 220 : 30;
    }
  }
  return px;
}

/** A small set of real encoded images: JPEG landscape/portrait, PNG with alpha, gray JPEG. */
export async function sampleImages(): Promise<Uint8Array[]> {
  const raw = (w: number, h: number, seed: number) =>
    sharp(pattern(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
  const rgba = new Uint8Array(50 * 30 * 4);
  const rgb = pattern(50, 30, 5);
  for (let i = 0; i < 50 * 30; i++) {
    rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = i % 50 < 25 ? 255 : 128;
  }
  const out = [
    await raw(64, 48, 1).jpeg({ quality: 90 }).toBuffer(),
    await raw(40, 90, 2).jpeg({ quality: 90 }).toBuffer(),
    await raw(33, 33, 3).png().toBuffer(),
    await sharp(rgba, { raw: { width: 50, height: 30, channels: 4 } })
      .png()
      .toBuffer(),
    await raw(70, 20, 4).grayscale().jpeg().toBuffer(),
  ];
  return out.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}
