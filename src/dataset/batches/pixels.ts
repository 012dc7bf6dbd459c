import type { BatchDType, TensorLayout } from './options.js';

/**
 * Output tensor of one image column for a whole batch. Not zero-filled (a batch is a few MB, made
 * many times a second): every slot is overwritten by `place`, and a batch with a failed decode is
 * never handed out.
 */
export function allocate(dtype: BatchDType, n: number, h: number, w: number, c: number): Uint8Array | Float32Array {
  const elements = n * h * w * c;
  const buf = Buffer.allocUnsafeSlow(elements * (dtype === 'uint8' ? 1 : 4)).buffer;
  return dtype === 'uint8' ? new Uint8Array(buf, 0, elements) : new Float32Array(buf, 0, elements);
}

export function tensorShape(layout: TensorLayout, n: number, h: number, w: number, c: number): number[] {
  return layout === 'NHWC' ? [n, h, w, c] : [n, c, h, w];
}

/**
 * Copies one decoded HWC uint8 image into slot `i` of the batch tensor, converting the layout and,
 * for float32, normalising: (v / 255 - mean[c]) / std[c].
 */
export function place(
  out: Uint8Array | Float32Array,
  i: number,
  src: Uint8Array,
  hw: number,
  c: number,
  layout: TensorLayout,
  mean: readonly number[],
  std: readonly number[],
): void {
  const base = i * hw * c;
  if (out instanceof Uint8Array) {
    if (layout === 'NHWC') {
      out.set(src.subarray(0, hw * c), base);
      return;
    }
    for (let ch = 0; ch < c; ch++) {
      const o = base + ch * hw;
      for (let p = 0; p < hw; p++) out[o + p] = src[p * c + ch];
    }
    return;
  }
  for (let ch = 0; ch < c; ch++) {
    const s = std[ch] ?? std[0] ?? 1;
    const a = 1 / (255 * s);
    const b = -(mean[ch] ?? mean[0] ?? 0) / s;
    if (layout === 'NCHW') {
      const o = base + ch * hw;
      for (let p = 0; p < hw; p++) out[o + p] = src[p * c + ch] * a + b;
    } else {
      for (let p = 0; p < hw; p++) out[base + p * c + ch] = src[p * c + ch] * a + b;
    }
  }
}
