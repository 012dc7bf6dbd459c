/**
 * Real media for tests and benches, generated on the spot (nothing downloaded): JPEG/PNG/WebP/
 * GIF/TIFF via sharp, BMP by hand, and MP4/MOV/MKV/WebM via ffmpeg where frame k is a solid
 * colour derived from k, so a test can tell exactly which frame it got.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { runFfmpeg } from '../../src/media/ffmpeg.js';
import type { ByteSource } from '../../src/media/range-server.js';
import { prng } from '../../src/random.js';

export type Rgb = readonly [number, number, number];

/** Deterministic PRNG (mulberry32). */
export const rng = prng;

/** Film grain shared by all 'scene' images (each starts at a seeded offset): far cheaper than a
 * random number per sample, so benches can make thousands of photo-like JPEGs quickly. */
const GRAIN_MASK = (1 << 18) - 1;
const GRAIN = (() => {
  const r = rng(0x5eed);
  return Float32Array.from({ length: GRAIN_MASK + 1 }, () => (r() - 0.5) * 20);
})();

export interface ImageSpec {
  readonly width: number;
  readonly height: number;
  /** Solid colour. Default pattern when neither color nor seed is given: gradient. */
  readonly color?: Rgb;
  /** Seeded pattern ('scene' unless `pattern` says otherwise). */
  readonly seed?: number;
  /** solid; gradient; noise (incompressible); scene (smooth blobs plus grain: photo-like JPEG
   * sizes, about 40 KB at 640×480 quality 80). */
  readonly pattern?: 'solid' | 'gradient' | 'noise' | 'scene';
  /** 1 grey, 3 RGB (default), 4 RGBA (left quarter transparent, the rest alpha 200). */
  readonly channels?: 1 | 3 | 4;
}

/** Raw HWC pixels for a spec. */
export function makePixels(spec: ImageSpec): { data: Buffer; width: number; height: number; channels: 1 | 3 | 4 } {
  const { width: w, height: h, channels = 3 } = spec;
  const pattern = spec.pattern ?? (spec.color ? 'solid' : spec.seed !== undefined ? 'scene' : 'gradient');
  const rgb = Buffer.alloc(w * h * 3);
  const rand = rng(spec.seed ?? 1);
  if (pattern === 'solid') {
    const [r, g, b] = spec.color ?? [128, 128, 128];
    for (let p = 0; p < w * h; p++) rgb.set([r, g, b], p * 3);
  } else if (pattern === 'gradient') {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        rgb.set(
          [Math.round((255 * x) / Math.max(1, w - 1)), Math.round((255 * y) / Math.max(1, h - 1)), 128],
          (y * w + x) * 3,
        );
      }
  } else if (pattern === 'noise') {
    for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(rand() * 256);
  } else {
    // Bilinear blend of a coarse random grid (one node per 24 px) plus ±10 grain.
    const cell = 24;
    const gw = Math.ceil(w / cell) + 1;
    const gh = Math.ceil(h / cell) + 1;
    const grid = new Float32Array(gw * gh * 3).map(() => rand() * 255);
    const out = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, rgb.length); // rounds and clamps
    let g = Math.floor(rand() * GRAIN.length);
    for (let y = 0; y < h; y++) {
      const y0 = Math.floor(y / cell),
        fy = y / cell - y0;
      const r0 = y0 * gw * 3,
        r1 = (y0 + 1) * gw * 3;
      for (let x = 0; x < w; x++) {
        const x0 = Math.floor(x / cell),
          fx = x / cell - x0;
        const a = r0 + x0 * 3,
          b = r1 + x0 * 3,
          o = (y * w + x) * 3;
        for (let c = 0; c < 3; c++) {
          const top = grid[a + c] + (grid[a + 3 + c] - grid[a + c]) * fx;
          const bottom = grid[b + c] + (grid[b + 3 + c] - grid[b + c]) * fx;
          out[o + c] = top + (bottom - top) * fy + GRAIN[g++ & GRAIN_MASK];
        }
      }
    }
  }
  if (channels === 3) return { data: rgb, width: w, height: h, channels };
  const out = Buffer.alloc(w * h * channels);
  for (let p = 0; p < w * h; p++) {
    if (channels === 1) out[p] = Math.round(0.299 * rgb[p * 3] + 0.587 * rgb[p * 3 + 1] + 0.114 * rgb[p * 3 + 2]);
    else out.set([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], p % w < w >> 2 ? 0 : 200], p * 4);
  }
  return { data: out, width: w, height: h, channels };
}

function pipeline(spec: ImageSpec): Sharp {
  const px = makePixels(spec);
  const img = sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels } });
  return px.channels === 1 ? img.toColourspace('b-w') : img;
}

const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export const makeJpeg = async (spec: ImageSpec & { quality?: number }): Promise<Uint8Array> =>
  bytes(
    await pipeline({ ...spec, channels: spec.channels === 1 ? 1 : 3 })
      .jpeg({ quality: spec.quality ?? 80 })
      .toBuffer(),
  );
export const makePng = async (spec: ImageSpec & { palette?: boolean }): Promise<Uint8Array> =>
  bytes(
    await pipeline(spec)
      .png({ palette: spec.palette ?? false })
      .toBuffer(),
  );
export const makeWebp = async (spec: ImageSpec & { lossless?: boolean; quality?: number }): Promise<Uint8Array> =>
  bytes(
    await pipeline(spec)
      .webp({ lossless: spec.lossless ?? false, quality: spec.quality ?? 80 })
      .toBuffer(),
  );
export const makeGif = async (spec: ImageSpec): Promise<Uint8Array> => bytes(await pipeline(spec).gif().toBuffer());
export const makeTiff = async (spec: ImageSpec): Promise<Uint8Array> =>
  bytes(await pipeline(spec).tiff({ compression: 'lzw' }).toBuffer());

/** 24-bit bottom-up BMP (sharp cannot write BMP). */
export function makeBmp(spec: ImageSpec): Uint8Array {
  const px = makePixels({ ...spec, channels: 3 });
  const stride = Math.ceil((px.width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * px.height);
  out.write('BM', 0, 'ascii');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(px.width, 18);
  out.writeInt32LE(px.height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(stride * px.height, 34);
  for (let y = 0; y < px.height; y++)
    for (let x = 0; x < px.width; x++) {
      const s = (y * px.width + x) * 3;
      const d = 54 + (px.height - 1 - y) * stride + x * 3;
      out[d] = px.data[s + 2];
      out[d + 1] = px.data[s + 1];
      out[d + 2] = px.data[s];
    }
  return bytes(out);
}

export const IMAGE_MAKERS = {
  jpeg: makeJpeg,
  png: makePng,
  webp: makeWebp,
  gif: makeGif,
  tiff: makeTiff,
  bmp: (spec: ImageSpec) => Promise.resolve(makeBmp(spec)),
} as const;

/** Colour of video frame k: 8 levels per channel 32 apart (512 distinct, then repeating), so
 * codec and YUV rounding (a few units) never make two frames look alike. */
export function frameColor(k: number): Rgb {
  const m = ((k % 512) + 512) % 512;
  return [16 + 32 * (m % 8), 16 + 32 * (Math.floor(m / 8) % 8), 16 + 32 * Math.floor(m / 64)];
}

/** Inverse of {@link frameColor} (nearest level per channel). */
export function frameIndexFromColor(rgb: ArrayLike<number>): number {
  const level = (v: number): number => Math.max(0, Math.min(7, Math.round((v - 16) / 32)));
  return level(rgb[0]) + 8 * level(rgb[1]) + 64 * level(rgb[2]);
}

/** Mean colour of a patch in the middle of the top half of an HWC frame (the solid part of every
 * test video, away from any letterbox padding). */
export function frameMeanColor(frame: { data: Uint8Array; shape: readonly number[] }): Rgb {
  const [h, w, c] = frame.shape;
  const sum = [0, 0, 0];
  let n = 0;
  const y0 = Math.floor(h / 8),
    y1 = Math.max(y0 + 1, Math.floor((3 * h) / 8));
  const x0 = Math.floor((3 * w) / 8),
    x1 = Math.max(x0 + 1, Math.floor((5 * w) / 8));
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      for (let k = 0; k < 3; k++) sum[k] += frame.data[(y * w + x) * c + k];
      n++;
    }
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

/** Which test-video frame this decoded frame is. */
export const frameIndexOf = (frame: { data: Uint8Array; shape: readonly number[] }): number =>
  frameIndexFromColor(frameMeanColor(frame));

export interface VideoSpec {
  readonly frames: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly format: 'mp4' | 'mov' | 'mkv' | 'webm';
  /** Keyframe interval in frames. Default fps (one per second). */
  readonly gop?: number;
  /** B-frames (h264 only). Default 0. */
  readonly bframes?: number;
  /** Fill the bottom half with seeded noise: realistic bitrates, large files. Default false. */
  readonly noise?: boolean;
  /** Lossy quality (h264/vp9 CRF). Default: lossless. */
  readonly crf?: number;
  /** mp4/mov: put the index (moov) first. Default false (ffmpeg's default: at the end). */
  readonly faststart?: boolean;
}

/** Raw rgb24 frames: top half (at least) solid frameColor(k), bottom half noise if asked. */
function* rawFrames(spec: VideoSpec): Generator<Uint8Array> {
  const { width: w, height: h } = spec;
  const rand = rng(7);
  for (let k = 0; k < spec.frames; k++) {
    const f = Buffer.alloc(w * h * 3);
    const [r, g, b] = frameColor(k);
    for (let p = 0; p < w * h; p++) {
      const noisy = spec.noise && p >= (w * h) >> 1;
      if (noisy) f.set([rand() * 256, rand() * 256, rand() * 256], p * 3);
      else f.set([r, g, b], p * 3);
    }
    yield f;
  }
}

/** Encodes a test video with ffmpeg (libx264 yuv420p, or libvpx-vp9 for webm). */
export async function makeVideo(spec: VideoSpec): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-video-'));
  const out = join(dir, `v.${spec.format}`);
  const gop = String(spec.gop ?? Math.max(1, Math.round(spec.fps)));
  const quality =
    spec.crf === undefined
      ? spec.format === 'webm'
        ? ['-lossless', '1']
        : ['-qp', '0']
      : ['-crf', String(spec.crf), ...(spec.format === 'webm' ? ['-b:v', '0'] : [])];
  const codec =
    spec.format === 'webm'
      ? ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1']
      : ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', String(spec.bframes ?? 0), '-x264-params', 'scenecut=0'];
  try {
    await runFfmpeg(
      [
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-s',
        `${spec.width}x${spec.height}`,
        '-r',
        String(spec.fps),
        '-i',
        'pipe:0',
        ...codec,
        ...quality,
        '-g',
        gop,
        '-keyint_min',
        gop,
        '-pix_fmt',
        'yuv420p',
        ...(spec.faststart ? ['-movflags', '+faststart'] : []),
        '-fflags',
        '+bitexact',
        '-flags:v',
        '+bitexact',
        '-y',
        out,
      ],
      { stdin: rawFrames(spec), what: 'encode a test video' },
    );
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** First n bytes (negative n: drop |n| from the end), as a copy. */
export function truncate(data: Uint8Array, n: number): Uint8Array {
  return data.slice(0, n < 0 ? Math.max(0, data.length + n) : n);
}

/** A copy with byte i (negative: from the end) inverted. */
export function flipByte(data: Uint8Array, i: number): Uint8Array {
  const out = data.slice();
  const at = i < 0 ? out.length + i : i;
  out[at] ^= 0xff;
  return out;
}

/** A ByteSource over memory that counts what is read (to prove ranged access). */
export function bufferSource(
  data: Uint8Array,
  name = 'memory video',
): ByteSource & { stats: { reads: number; bytesRead: number } } {
  const stats = { reads: 0, bytesRead: 0 };
  return {
    size: data.length,
    name,
    stats,
    read(offset: number, length: number) {
      stats.reads++;
      stats.bytesRead += length;
      return Promise.resolve(data.subarray(offset, offset + length));
    },
  };
}
