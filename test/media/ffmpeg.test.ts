import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure, ffmpegPath, ffprobePath, runFfmpeg, runFfprobe, sniffImage } from '../../src/media/index.js';
import { redactUrls } from '../../src/media/ffmpeg.js';

let dir: string;
const saved = { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-ffmpeg-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const [key, value] of [
    ['FFMPEG_PATH', saved.ffmpeg],
    ['FFPROBE_PATH', saved.ffprobe],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** An endless synthetic input. */
const ENDLESS = ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=1000', '-f', 'null', '-'];

describe('binaries', () => {
  it('resolves the installer binaries, and FFMPEG_PATH/FFPROBE_PATH override them', () => {
    delete process.env.FFMPEG_PATH;
    delete process.env.FFPROBE_PATH;
    expect(existsSync(ffmpegPath())).toBe(true);
    expect(existsSync(ffprobePath())).toBe(true);
    process.env.FFMPEG_PATH = '/opt/custom/ffmpeg';
    process.env.FFPROBE_PATH = '/opt/custom/ffprobe';
    expect(ffmpegPath()).toBe('/opt/custom/ffmpeg');
    expect(ffprobePath()).toBe('/opt/custom/ffprobe');
  });

  it('raises UNAVAILABLE when the binary cannot be started', async () => {
    process.env.FFMPEG_PATH = join(dir, 'no-such-ffmpeg');
    await expect(runFfmpeg(['-version'])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('runFfmpeg / runFfprobe', () => {
  it('captures stdout as a Buffer', async () => {
    const { stdout } = await runFfmpeg([
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=4x2:d=0.1',
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ]);
    expect(Buffer.isBuffer(stdout)).toBe(true);
    expect(stdout.length).toBe(4 * 2 * 3);
    expect(stdout[0]).toBeGreaterThan(250);
    expect(stdout[1]).toBeLessThan(5);
  });

  it('feeds stdin from bytes or an iterable', async () => {
    const pixel = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
    const args = [
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      '2x2',
      '-i',
      'pipe:0',
      '-f',
      'image2pipe',
      '-c:v',
      'png',
      'pipe:1',
    ];
    const a = await runFfmpeg(args, { stdin: pixel });
    expect(sniffImage(a.stdout)).toMatchObject({ format: 'png', width: 2, height: 2 });
    const b = await runFfmpeg(args, { stdin: [pixel.subarray(0, 5), pixel.subarray(5)] });
    expect(Buffer.compare(a.stdout, b.stdout)).toBe(0);
  });

  it('aborts with ABORTED, before start or while running', async () => {
    await expect(runFfmpeg(ENDLESS, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    const ctrl = new AbortController();
    const run = runFfmpeg(ENDLESS, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 100);
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('times out with TIMEOUT', async () => {
    await expect(runFfmpeg(ENDLESS, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('stops a process whose output grows past maxStdoutBytes', async () => {
    const args = ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=1000', '-f', 'rawvideo', 'pipe:1'];
    await expect(runFfmpeg(args, { maxStdoutBytes: 100_000 })).rejects.toMatchObject({ code: 'IO' });
  });

  it('raises CORRUPT naming the file and row for undecodable input, NOT_FOUND for a missing file', async () => {
    const junk = join(dir, 'junk.mp4');
    await writeFile(junk, Buffer.alloc(4096, 0x42));
    await expect(
      runFfprobe(['-show_format', junk], { context: { file: junk, row: 4, column: 'clip' } }),
    ).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { file: junk, row: 4, column: 'clip' },
    });
    await expect(runFfprobe(['-show_format', join(dir, 'absent.mp4')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('classifyFailure', () => {
  it('maps stderr to codes', () => {
    expect(
      classifyFailure('[mov,mp4 @ 0x1] moov atom not found\nx.mp4: Invalid data found when processing input'),
    ).toBe('CORRUPT');
    expect(classifyFailure('EBML header parsing failed')).toBe('CORRUPT');
    expect(classifyFailure('x.mp4: No such file or directory')).toBe('NOT_FOUND');
    expect(classifyFailure('Server returned 403 Forbidden (access denied)')).toBe('UNAUTHORIZED');
    expect(classifyFailure('Connection refused')).toBe('IO');
    expect(classifyFailure('something else entirely')).toBe('IO');
  });

  it('hides presigned URL query strings', () => {
    const text = 'https://bucket.s3.amazonaws.com/v.mp4?X-Amz-Signature=abc&X-Amz-Credential=def: Server returned 403';
    expect(redactUrls(text)).toBe('https://bucket.s3.amazonaws.com/v.mp4?…: Server returned 403');
  });
});
