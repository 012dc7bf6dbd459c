import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeRangeServer,
  probeVideo,
  runFfprobe,
  selectFrames,
  VideoReader,
  type VideoFrame,
} from '../../src/media/index.js';
import { bufferSource, frameColor, frameIndexOf, makeVideo, truncate } from '../helpers/media.js';

let dir: string;
const paths: Record<string, string> = {};
const bytes: Record<string, Uint8Array> = {};

/** 30 frames at 10 fps, keyframe every 10 frames: frame k is solid frameColor(k). */
const SPEC = { frames: 30, fps: 10, width: 64, height: 48, gop: 10 } as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-video-'));
  const made = {
    mp4: makeVideo({ ...SPEC, format: 'mp4' }),
    bframes: makeVideo({ ...SPEC, format: 'mp4', bframes: 2 }),
    webm: makeVideo({ ...SPEC, format: 'webm' }),
    mov: makeVideo({ ...SPEC, frames: 5, format: 'mov' }),
    mkv: makeVideo({ ...SPEC, frames: 5, format: 'mkv' }),
    faststart: makeVideo({ ...SPEC, format: 'mp4', faststart: true }),
    // A bigger one: noisy bottom half, 100 frames at 160×120.
    big: makeVideo({ frames: 100, fps: 10, width: 160, height: 120, gop: 10, format: 'mp4', noise: true, crf: 23 }),
  };
  for (const [name, p] of Object.entries(made)) {
    bytes[name] = await p;
    paths[name] = join(dir, `${name}.${name === 'webm' || name === 'mov' || name === 'mkv' ? name : 'mp4'}`);
    await writeFile(paths[name], bytes[name]);
  }
});

afterAll(async () => {
  await closeRangeServer();
  await rm(dir, { recursive: true, force: true });
});

const idx = (f: VideoFrame): number => frameIndexOf(f);

describe('test videos', () => {
  it('have real GOPs, so seeking is exercised (keyframes only every 10 frames)', async () => {
    const { stdout } = await runFfprobe([
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=flags',
      '-of',
      'csv=p=0',
      paths.mp4,
    ]);
    const keys = stdout
      .toString()
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('K')).length;
    expect(keys).toBe(3);
  });
});

describe('probeVideo', () => {
  it('reports duration, fps, frames, size, codec and container', async () => {
    expect(await probeVideo(paths.mp4)).toMatchObject({
      durationS: 3,
      fps: 10,
      frameCount: 30,
      frameCountExact: true,
      width: 64,
      height: 48,
      codec: 'h264',
      format: 'mp4',
      rotation: 0,
    });
    expect(await probeVideo(paths.webm)).toMatchObject({
      durationS: 3,
      fps: 10,
      frameCount: 30,
      codec: 'vp9',
      format: 'webm',
    });
    expect(await probeVideo(paths.webm, { exactFrameCount: true })).toMatchObject({
      frameCount: 30,
      frameCountExact: true,
    });
    expect(await probeVideo(paths.mov)).toMatchObject({ format: 'mov', frameCount: 5 });
    expect(await probeVideo(paths.mkv)).toMatchObject({ format: 'mkv', codec: 'h264', frameCount: 5 });
  });

  it('probes a byte source through the range server and a file:// URL', async () => {
    expect(await probeVideo(bufferSource(bytes.webm))).toMatchObject({ format: 'webm', frameCount: 30, width: 64 });
    expect(await probeVideo(`file://${paths.mp4}`)).toMatchObject({ format: 'mp4', frameCount: 30 });
  });

  it('raises CORRUPT for truncated or junk files, NOT_FOUND for missing ones', async () => {
    const cut = join(dir, 'cut.mp4');
    await writeFile(cut, truncate(bytes.mp4, bytes.mp4.length >> 1));
    await expect(probeVideo(cut, { context: { column: 'clip', row: 9 } })).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { column: 'clip', row: 9, file: cut },
    });
    await expect(probeVideo(bufferSource(new Uint8Array(10_000).fill(3)))).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(probeVideo(join(dir, 'absent.mp4'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(probeVideo('s3://bucket/key.mp4')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('frame accuracy', () => {
  it.each(['mp4', 'bframes', 'webm'])(
    '%s: frame(k) and frameAt(t) return exactly frame k, local file',
    async (name) => {
      await using reader = await VideoReader.open(paths[name]);
      for (let k = 0; k < SPEC.frames; k++) {
        const f = await reader.frame(k);
        expect(f.shape).toEqual([48, 64, 3]);
        expect(f.dtype).toBe('uint8');
        expect(f.timestampS).toBeCloseTo(k / 10, 9);
        expect(idx(f), `frame(${k})`).toBe(k);
        expect(idx(await reader.frameAt(k / 10 + 0.03)), `frameAt(${k / 10 + 0.03})`).toBe(k);
      }
      expect(idx(await reader.frameAt(0.1))).toBe(1); // exactly on a frame boundary
      expect(idx(await reader.frameAt(2.9999))).toBe(29);
    },
  );

  it('decoded colours are the encoded ones (within YUV rounding)', async () => {
    await using reader = await VideoReader.open(paths.mp4);
    const f = await reader.frame(13);
    const want = frameColor(13);
    for (let c = 0; c < 3; c++) expect(Math.abs(f.data[c] - want[c])).toBeLessThanOrEqual(4);
  });

  it('is exact through the range server (byte source backed by a Buffer)', async () => {
    const src = bufferSource(bytes.mp4);
    const reader = await VideoReader.open(src, { context: { column: 'clip', row: 0 } });
    expect(reader.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    for (let k = 0; k < SPEC.frames; k++) {
      expect(idx(await reader.frame(k)), `frame(${k})`).toBe(k);
      expect(idx(await reader.frameAt(k / 10 + 0.05)), `frameAt`).toBe(k);
    }
    await reader.close();
  });

  it('reads only part of a larger video for one frame', async () => {
    const video = bytes.big;
    const src = bufferSource(video);
    const reader = await VideoReader.open(src);
    expect(reader.info.frameCount).toBe(100);
    const afterProbe = src.stats.bytesRead;
    expect(afterProbe).toBeLessThan(video.length / 4);
    const f = await reader.frame(87);
    expect(idx(f)).toBe(87);
    const forFrame = src.stats.bytesRead - afterProbe;
    expect(forFrame).toBeLessThan(video.length / 2);
    await reader.close();
    // Stored metadata skips ffprobe entirely.
    const src2 = bufferSource(video);
    const again = await VideoReader.open(src2, { info: reader.info });
    expect(src2.stats.bytesRead).toBe(0);
    expect(idx(await again.frame(3))).toBe(3);
    expect(src2.stats.bytesRead).toBeLessThan(video.length / 2);
    await again.close();
  });
});

describe('frames()', () => {
  it('selects by count (linspace) and by everySeconds', () => {
    const info = { frameCount: 30, fps: 10, durationS: 3 };
    expect(selectFrames(info, { count: 5 })).toEqual([0, 7, 15, 22, 29]);
    expect(selectFrames(info, { count: 1 })).toEqual([0]);
    expect(selectFrames(info, { count: 100 })).toHaveLength(30);
    expect(selectFrames(info, { everySeconds: 0.5 })).toEqual([0, 5, 10, 15, 20, 25]);
    expect(selectFrames(info, { everySeconds: 0.25 })).toEqual([0, 2, 5, 7, 10, 12, 15, 17, 20, 22, 25, 27]);
    expect(selectFrames(info, { indices: [5, 1, 5] })).toEqual([1, 5]);
    expect(() => selectFrames(info, { count: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => selectFrames(info, { indices: [30] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it.each(['scan', 'seek'] as const)('strategy %s returns the right frames', async (strategy) => {
    await using reader = await VideoReader.open(paths.bframes);
    const byCount = await reader.frames({ count: 5 }, { strategy }).toArray();
    expect(byCount.map((f) => f.index)).toEqual([0, 7, 15, 22, 29]);
    expect(byCount.map(idx)).toEqual([0, 7, 15, 22, 29]);
    const every = await reader.frames({ everySeconds: 0.5 }, { strategy }).toArray();
    expect(every.map(idx)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(every.map((f) => f.timestampS)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });

  it('scan and seek give identical pixels; all frames through the range server', async () => {
    await using reader = await VideoReader.open(paths.webm);
    const scan = await reader.frames({ indices: [3, 11, 27] }, { strategy: 'scan' }).toArray();
    const seek = await reader.frames({ indices: [3, 11, 27] }, { strategy: 'seek' }).toArray();
    for (let i = 0; i < 3; i++) expect(Buffer.from(scan[i].data).equals(Buffer.from(seek[i].data))).toBe(true);
    await using remote = await VideoReader.open(bufferSource(bytes.mp4));
    const all = await remote.frames({ count: 30 }).toArray();
    expect(all.map(idx)).toEqual(Array.from({ length: 30 }, (_, k) => k));
  });

  it('stops decoding when the consumer stops', async () => {
    await using reader = await VideoReader.open(paths.mp4);
    const seen: number[] = [];
    for await (const f of reader.frames({ count: 30 }, { strategy: 'scan' })) {
      seen.push(idx(f));
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([0, 1]);
  });
});

describe('resize', () => {
  it.each([
    ['fill', [20, 30, 3]],
    ['cover', [20, 30, 3]],
    ['contain', [20, 30, 3]],
    ['inside', [20, 27, 3]],
  ] as const)('fit %s', async (fit, shape) => {
    await using reader = await VideoReader.open(paths.mp4);
    const f = await reader.frame(4, { resize: { width: 30, height: 20, fit } });
    expect(f.shape).toEqual(shape);
    expect(f.data.length).toBe(shape[0] * shape[1] * 3);
    expect(frameIndexOf(f)).toBe(4);
    const scanned = await reader
      .frames({ indices: [4] }, { strategy: 'scan', resize: { width: 30, height: 20, fit } })
      .toArray();
    expect(scanned[0].shape).toEqual(shape);
  });
});

describe('damaged video', () => {
  it('raises CORRUPT with the row when frames are missing (truncated mdat)', async () => {
    const cut = join(dir, 'cut-faststart.mp4');
    await writeFile(cut, truncate(bytes.faststart, Math.floor(bytes.faststart.length * 0.5)));
    await using reader = await VideoReader.open(cut, { context: { column: 'clip', row: 5 } });
    expect(idx(await reader.frame(2))).toBe(2);
    await expect(reader.frame(25)).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { column: 'clip', row: 5, file: cut },
    });
    await expect(reader.frames({ count: 30 }, { strategy: 'scan' }).toArray()).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { row: 5 },
    });
  });

  it('raises CORRUPT rather than returning a later frame when the decoder drops one', async () => {
    const damaged = bytes.webm.slice();
    for (let i = Math.floor(damaged.length * 0.5); i < Math.floor(damaged.length * 0.6); i += 7) damaged[i] ^= 0x5a;
    await using reader = await VideoReader.open(bufferSource(damaged), { context: { row: 8 } });
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, k) => reader.frame(k)));
    results.forEach((r, k) => {
      if (r.status === 'rejected') {
        expect(r.reason, `frame ${k}`).toMatchObject({ code: 'CORRUPT', details: { row: 8 } });
        return;
      }
      expect(r.value.index).toBe(k);
      // Damage the codec does not notice can still smear a frame's pixels (nothing can detect
      // that), but a dropped frame is never replaced by a later one.
      expect(idx(r.value), `frame ${k}`).toBeLessThanOrEqual(k);
      if (k < 10) expect(idx(r.value), `frame ${k}`).toBe(k); // first GOP lies before the damage
    });
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
  });
});

describe('VideoReader lifecycle and arguments', () => {
  it('rejects out-of-range frames and times', async () => {
    await using reader = await VideoReader.open(paths.mp4);
    await expect(reader.frame(30)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(reader.frame(-1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(reader.frame(1.5)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(reader.frameAt(-0.1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(reader.frameAt(3.5)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(reader.frame(1, { resize: { width: 0, height: 4 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(reader.frame(1, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('close() is idempotent, releases the range-server URL and refuses further use', async () => {
    const reader = await VideoReader.open(bufferSource(bytes.mp4));
    const url = reader.url;
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    await reader.close();
    await reader.close();
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(404);
    await expect(reader.frame(0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('reports a failing byte source as IO, not as damaged media', async () => {
    const good = bufferSource(bytes.big);
    const reader = await VideoReader.open(good);
    const failing = {
      ...good,
      read: async (o: number, l: number) => {
        if (o > 0) throw new Error('network down');
        return good.read(o, l);
      },
    };
    await reader.close();
    const broken = await VideoReader.open(failing, { info: reader.info, context: { row: 1 } });
    await expect(broken.frame(50)).rejects.toMatchObject({ code: 'IO', details: { row: 1 } });
    await broken.close();
  });
});
