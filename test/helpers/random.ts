import type { Sample } from '../../src/format/chunk.js';
import { DTYPE_BYTES, type DType } from '../../src/format/dtype.js';

/** A seeded PRNG (mulberry32 over a string hash): tests are reproducible. */
export function rng(seed: string | number): () => number {
  let h = typeof seed === 'number' ? seed >>> 0 : 2166136261;
  if (typeof seed === 'string')
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
  return () => {
    h = (h + 0x6d2b79f5) >>> 0;
    let t = h;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(r: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** A sample of `dtype` and `shape` with random content (variable-width dtypes get random-length bytes). */
export function randomSample(r: () => number, dtype: DType, shape: number[]): Sample {
  const n = shape.reduce((a, b) => a * b, 1);
  const width = DTYPE_BYTES[dtype];
  if (width === 0) {
    const text = Array.from({ length: Math.floor(r() * 40) }, () =>
      String.fromCharCode(32 + Math.floor(r() * 90)),
    ).join('');
    const body = dtype === 'json' ? JSON.stringify({ t: text }) : text;
    return { bytes: new TextEncoder().encode(body), shape: [] };
  }
  return { bytes: randomBytes(r, n * width), shape };
}
