import { StrataError } from '../errors.js';
import { IMAGE_FITS, type ResizeOptions } from './image.js';
import type { VideoInfo } from './video-probe.js';

/** One decoded frame, HWC uint8 RGB. `timestampS` = index / fps, from the start of the video. */
export interface VideoFrame {
  readonly data: Uint8Array;
  readonly shape: [height: number, width: number, channels: 3];
  readonly dtype: 'uint8';
  readonly index: number;
  readonly timestampS: number;
}

/** Which frames `frames()` decodes: `count` evenly spaced from first to last (rounded
 * linspace), one every `everySeconds` from 0, or explicit `indices`. Always yielded in
 * ascending index order, each index once. */
export type FrameSelection =
  { readonly count: number } | { readonly everySeconds: number } | { readonly indices: readonly number[] };

export const SWS_FLAGS = 'bicubic+accurate_rnd+full_chroma_int';
/** Info level with level tags: `showinfo` lines are parsed, diagnostics are the [error] lines. */
export const FFMPEG_BASE = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+info'];
export const FFMPEG_OUTPUT = ['-sws_flags', SWS_FLAGS, '-xerror', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
const SHOWINFO = /\[Parsed_showinfo_\d+ @ [^\]]*\] (?:\[info\] )?n:\s*\d+\s+pts:\s*-?\d+\s+pts_time:(-?[0-9.e+-]+)/;

/** pts_time from a `showinfo` frame line, or undefined. */
export function parseShowinfo(line: string): number | undefined {
  const m = SHOWINFO.exec(line);
  const t = m ? Number(m[1]) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** The ffmpeg filter that maps a w×h frame to the requested box, and the output size. */
export function scaleFilter(
  w: number,
  h: number,
  resize: ResizeOptions | undefined,
): { filter?: string; width: number; height: number } {
  if (!resize) return { width: w, height: h };
  const { width: W, height: H, fit = 'fill' } = resize;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W <= 0 || H <= 0 || !IMAGE_FITS.includes(fit)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `resize needs positive integer width/height and fit in ${IMAGE_FITS.join(', ')}, got ${JSON.stringify(resize)}`,
      { field: 'resize' },
    );
  }
  if (fit === 'fill') return { filter: `scale=${W}:${H}`, width: W, height: H };
  if (fit === 'cover') {
    const s = Math.max(W / w, H / h);
    const sw = Math.max(W, Math.round(w * s));
    const sh = Math.max(H, Math.round(h * s));
    return { filter: `scale=${sw}:${sh},crop=${W}:${H}:${(sw - W) >> 1}:${(sh - H) >> 1}`, width: W, height: H };
  }
  const s = Math.min(W / w, H / h);
  const sw = Math.max(1, Math.min(W, Math.round(w * s)));
  const sh = Math.max(1, Math.min(H, Math.round(h * s)));
  if (fit === 'inside') return { filter: `scale=${sw}:${sh}`, width: sw, height: sh };
  return { filter: `scale=${sw}:${sh},pad=${W}:${H}:${(W - sw) >> 1}:${(H - sh) >> 1}:black`, width: W, height: H };
}

/** Frame indices for a selection, ascending and unique. */
export function selectFrames(
  info: Pick<VideoInfo, 'frameCount' | 'fps' | 'durationS'>,
  selection: FrameSelection,
): number[] {
  const n = info.frameCount;
  const bad = (msg: string): StrataError => new StrataError('INVALID_ARGUMENT', msg, { field: 'selection' });
  let out: number[];
  if ('count' in selection) {
    const c = selection.count;
    if (!Number.isInteger(c) || c < 1) throw bad(`frames({ count }) needs an integer >= 1, got ${c}`);
    out = c === 1 ? [0] : Array.from({ length: c }, (_, k) => Math.round((k * (n - 1)) / (c - 1)));
  } else if ('everySeconds' in selection) {
    const s = selection.everySeconds;
    if (!(s > 0) || !Number.isFinite(s)) throw bad(`frames({ everySeconds }) needs a positive number, got ${s}`);
    out = [];
    for (let k = 0; k * s < info.durationS - 1e-9; k++) out.push(Math.min(n - 1, Math.floor(k * s * info.fps + 1e-6)));
  } else {
    for (const i of selection.indices) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw bad(`frame index ${i} is outside 0..${n - 1}`);
    }
    out = [...selection.indices];
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** An async iterable of frames, with an explicit `toArray()`. */
export class FrameStream implements AsyncIterable<VideoFrame> {
  constructor(private readonly source: () => AsyncGenerator<VideoFrame>) {}
  [Symbol.asyncIterator](): AsyncIterator<VideoFrame> {
    return this.source();
  }
  async toArray(): Promise<VideoFrame[]> {
    const out: VideoFrame[] = [];
    for await (const f of this) out.push(f);
    return out;
  }
}
