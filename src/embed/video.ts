import type { VideoCell } from '../dataset/cells.js';
import { StrataError } from '../errors.js';
import type { Pooling } from './lineage.js';
import { resizeForModel, type Preprocess } from './preprocess.js';

/** Frames an embedding job samples per video: evenly spaced `count`, or one every `everySeconds`. */
export type JobFrames = { readonly count: number } | { readonly everySeconds: number };

export function checkFrames(frames: JobFrames): JobFrames {
  const ok =
    'count' in frames
      ? Number.isInteger(frames.count) && frames.count >= 1
      : 'everySeconds' in frames && Number.isFinite(frames.everySeconds) && frames.everySeconds > 0;
  if (!ok) {
    throw new StrataError('INVALID_ARGUMENT', `frames ${JSON.stringify(frames)} is not valid`, {
      field: 'frames',
      hint: 'pass { count: n } (n >= 1) or { everySeconds: s } (s > 0)',
    });
  }
  return 'count' in frames ? { count: frames.count } : { everySeconds: frames.everySeconds };
}

/** Decodes only the selected frames and resizes each to the model input (HWC pixels). */
export async function videoFrames(
  cell: VideoCell,
  frames: JobFrames,
  pre: Preprocess,
): Promise<{ items: Uint8Array[]; timestamps: number[] }> {
  const decoded = await cell.frames(frames);
  if (decoded.length === 0)
    throw new StrataError('CORRUPT', 'no frame could be selected from the video', {
      hint: 'check the video duration and frames option',
    });
  const items: Uint8Array[] = [];
  const timestamps: number[] = [];
  for (const f of decoded) {
    const px = await resizeForModel({ data: f.data, width: f.shape[1], height: f.shape[0], channels: 3 }, pre);
    items.push(px);
    timestamps.push(f.timestampS);
  }
  return { items, timestamps };
}

/** L2-normalizes in place (a zero vector stays zero). */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** Element-wise mean or max of frame vectors. */
export function pool(vectors: readonly Float32Array[], how: Exclude<Pooling, 'none'>): Float32Array {
  const d = vectors[0].length;
  const out = Float32Array.from(vectors[0]);
  if (how === 'max') {
    for (let k = 1; k < vectors.length; k++)
      for (let i = 0; i < d; i++) if (vectors[k][i] > out[i]) out[i] = vectors[k][i];
    return out;
  }
  const acc = new Float64Array(d);
  for (const v of vectors) for (let i = 0; i < d; i++) acc[i] += v[i];
  for (let i = 0; i < d; i++) out[i] = acc[i] / vectors.length;
  return out;
}
