import { StrataError, throwIfAborted } from '../errors.js';
import { contextDetails, describeContext, type MediaContext } from './context.js';
import { ffmpegPath, runProcess, startProcess } from './ffmpeg.js';
import type { ResizeOptions } from './image.js';
import {
  FFMPEG_BASE,
  FFMPEG_OUTPUT,
  FrameStream,
  parseShowinfo,
  scaleFilter,
  selectFrames,
  type FrameSelection,
  type VideoFrame,
} from './video-frames.js';
import {
  probeResolved,
  resolveInput,
  sourceFailure,
  type ResolvedInput,
  type VideoInfo,
  type VideoInput,
} from './video-probe.js';

export { probeVideo, type ProbeOptions, type VideoInfo, type VideoInput } from './video-probe.js';
export {
  FrameStream,
  parseShowinfo,
  scaleFilter,
  selectFrames,
  type FrameSelection,
  type VideoFrame,
} from './video-frames.js';

export interface FrameOptions {
  /** Overrides the reader's default resize. Same fits as images (cover/contain/fill/inside). */
  readonly resize?: ResizeOptions;
  readonly signal?: AbortSignal;
  /** Per ffmpeg run. Default: the reader's timeoutMs. */
  readonly timeoutMs?: number;
}

export interface FramesOptions extends FrameOptions {
  /** 'seek': one ffmpeg run per frame, each seeking to its keyframe (best for few frames in a long
   * video). 'scan': one run decoding from the start up to the last wanted frame and keeping the
   * selected ones (best when frames are dense). Default 'auto' picks by density. */
  readonly strategy?: 'auto' | 'seek' | 'scan';
}

export interface VideoReaderOptions {
  readonly signal?: AbortSignal;
  /** Per ffmpeg/ffprobe run. Default 60000. */
  readonly timeoutMs?: number;
  /** Names the sample in errors (column, row; file defaults to the path/URL/source name). */
  readonly context?: MediaContext;
  /** Known metadata (e.g. stored at append): skips the ffprobe run. */
  readonly info?: VideoInfo;
  /** Default resize for every frame. */
  readonly resize?: ResizeOptions;
  /** ffmpeg decoder threads. Default: ffmpeg's choice. */
  readonly threads?: number;
  /** For byte sources: the range server's read size. Default 256 KiB. */
  readonly blockSizeBytes?: number;
}

/**
 * Decodes only the frames asked for, as HWC uint8 RGB. Frame `i` is exact: ffmpeg seeks (input
 * `-ss`, so it decodes only from the preceding keyframe) to the midpoint between frames i-1 and i
 * and outputs the first frame at or after it, so timestamp rounding can never yield a neighbour;
 * the frame's pts (from `showinfo`) is then checked, so a frame the decoder dropped raises CORRUPT
 * instead of silently returning the next one. Assumes a constant frame rate (index i ↔ time i/fps).
 *
 * Byte sources are served to ffmpeg by the loopback range server, which reads only the byte
 * ranges ffmpeg asks for (the index, then the GOP holding the frame). Each frame is one ffmpeg
 * process (tens of ms); `frames()` decodes dense selections in a single pass.
 */
export class VideoReader {
  private closed = false;

  private constructor(
    private readonly input: ResolvedInput,
    readonly info: VideoInfo,
    private readonly options: VideoReaderOptions,
    private readonly context: MediaContext,
  ) {}

  /** Opens a path, http(s) URL or byte source; probes it unless `options.info` is given. */
  static async open(input: VideoInput, options: VideoReaderOptions = {}): Promise<VideoReader> {
    throwIfAborted(options.signal, 'video open');
    const resolved = await resolveInput(input, options.context, { blockSizeBytes: options.blockSizeBytes });
    const context = { ...options.context, file: resolved.name };
    try {
      const info =
        options.info ??
        (await probeResolved(resolved, { signal: options.signal, timeoutMs: options.timeoutMs, context }));
      return new VideoReader(resolved, info, options, context);
    } catch (err) {
      resolved.release();
      throw err;
    }
  }

  /** The URL ffmpeg reads (a loopback URL for byte sources). */
  get url(): string {
    return this.input.url;
  }

  /** Frame i (0-based). INVALID_ARGUMENT outside 0..frameCount-1; CORRUPT if it cannot be decoded
   * (including when the decoder skips it and would hand back a later frame). */
  async frame(i: number, options: FrameOptions = {}): Promise<VideoFrame> {
    this.check(options.signal);
    if (!Number.isInteger(i) || i < 0 || i >= this.info.frameCount) {
      throw this.invalid(`frame ${i} is outside 0..${this.info.frameCount - 1}`);
    }
    const { filter, width, height } = scaleFilter(
      this.info.width,
      this.info.height,
      options.resize ?? this.options.resize,
    );
    const seekS = i === 0 ? 0 : this.info.startOffsetS + (i - 0.5) / this.info.fps;
    const size = width * height * 3;
    const args = [
      ...FFMPEG_BASE,
      ...this.threadArgs(),
      ...(seekS > 0 ? ['-ss', seekS.toFixed(6)] : []),
      ...this.input.inputArgs,
      '-i',
      this.input.url,
      '-map',
      '0:v:0',
      '-an',
      '-sn',
      '-dn',
      '-frames:v',
      '1',
      '-vf',
      filter ? `showinfo,${filter}` : 'showinfo',
      ...FFMPEG_OUTPUT,
    ];
    const context = { ...this.context, frame: i };
    let first: number | undefined;
    let stdout: Buffer;
    try {
      const run = this.runOptions(options, 'decode video frame', size + 1, context);
      ({ stdout } = await runProcess(ffmpegPath(), args, {
        ...run,
        onStderrLine: (line) => (first ??= parseShowinfo(line)),
      }));
    } catch (err) {
      throw sourceFailure(this.input, err, context);
    }
    if (stdout.length !== size) throw this.missing(i, stdout.length);
    if (first !== undefined) this.verify(i, this.indexAt(seekS + first));
    return this.toFrame(stdout, i, width, height);
  }

  /** The frame shown at `seconds` (the last frame starting at or before it). */
  async frameAt(seconds: number, options: FrameOptions = {}): Promise<VideoFrame> {
    this.check(options.signal);
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > this.info.durationS) {
      throw this.invalid(`time ${seconds} s is outside the video (0..${this.info.durationS} s)`);
    }
    return this.frame(Math.min(this.info.frameCount - 1, Math.floor(seconds * this.info.fps + 1e-6)), options);
  }

  /** The selected frames, ascending, decoding nothing else. */
  frames(selection: FrameSelection, options: FramesOptions = {}): FrameStream {
    this.check(options.signal);
    const indices = selectFrames(this.info, selection);
    const strategy = options.strategy ?? 'auto';
    const last = indices[indices.length - 1] ?? 0;
    const scan =
      strategy === 'scan' ||
      (strategy === 'auto' &&
        indices.length > 1 &&
        (last < 300 || indices.length * 12 >= last + 1) &&
        indices.length <= 2000);
    const frame = (i: number): Promise<VideoFrame> => this.frame(i, options);
    const scanFrames = (): AsyncGenerator<VideoFrame> => this.scanFrames(indices, options);
    return new FrameStream(async function* () {
      if (!scan) {
        for (const i of indices) yield await frame(i);
        return;
      }
      yield* scanFrames();
    });
  }

  /** One ffmpeg run: frames selected by timestamp window (so a frame the decoder drops cannot
   * shift the others), each labelled by its pts from `showinfo` and checked. */
  private async *scanFrames(indices: number[], options: FrameOptions): AsyncGenerator<VideoFrame> {
    const { fps, startOffsetS } = this.info;
    const { filter, width, height } = scaleFilter(
      this.info.width,
      this.info.height,
      options.resize ?? this.options.resize,
    );
    const size = width * height * 3;
    const windows = indices.map((i) => {
      const c = startOffsetS + i / fps;
      return `gte(t,${(c - 0.5 / fps).toFixed(6)})*lt(t,${(c + 0.5 / fps).toFixed(6)})`;
    });
    const chain = [`select='${windows.join('+')}'`, 'showinfo', ...(filter ? [filter] : [])].join(',');
    const args = [
      ...FFMPEG_BASE,
      ...this.threadArgs(),
      ...this.input.inputArgs,
      '-i',
      this.input.url,
      '-map',
      '0:v:0',
      '-an',
      '-sn',
      '-dn',
      '-vf',
      chain,
      '-vsync',
      '0',
      '-frames:v',
      String(indices.length),
      ...FFMPEG_OUTPUT,
    ];
    const pts: number[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const proc = startProcess(ffmpegPath(), args, {
      ...this.runOptions(options, `decode ${indices.length} video frames`, size * indices.length + 1),
      onStderrLine: (line) => {
        const t = parseShowinfo(line);
        if (t !== undefined) pts.push(t);
        wake?.();
      },
    });
    void proc.done
      .catch(() => {})
      .finally(() => {
        ended = true;
        wake?.();
      });
    const nextPts = async (): Promise<number | undefined> => {
      while (pts.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      return pts.shift();
    };
    let k = 0;
    let buf = Buffer.allocUnsafe(size);
    let filled = 0;
    try {
      for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
        for (let at = 0; at < chunk.length;) {
          const n = Math.min(size - filled, chunk.length - at);
          chunk.copy(buf, filled, at, at + n);
          filled += n;
          at += n;
          if (filled === size && k < indices.length) {
            const t = await nextPts();
            if (t !== undefined) this.verify(indices[k], this.indexAt(t));
            yield this.toFrame(buf, indices[k++], width, height);
            buf = Buffer.allocUnsafe(size);
            filled = 0;
          }
        }
      }
      await proc.done;
    } catch (err) {
      throw err instanceof StrataError && err.code === 'CORRUPT' && err.details.frame !== undefined
        ? err
        : sourceFailure(this.input, err, { ...this.context, frame: indices[k] });
    } finally {
      proc.kill();
    }
    if (k < indices.length) throw this.missing(indices[k], filled);
  }

  /** Idempotent; releases the byte source's URL. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.input.release();
    }
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private toFrame(data: Buffer, index: number, width: number, height: number): VideoFrame {
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, width * height * 3),
      shape: [height, width, 3],
      dtype: 'uint8',
      index,
      timestampS: index / this.info.fps,
    };
  }

  private threadArgs(): string[] {
    return this.options.threads === undefined ? [] : ['-threads', String(this.options.threads)];
  }

  private runOptions(options: FrameOptions, what: string, maxStdoutBytes: number, context = this.context) {
    return {
      signal: options.signal ?? this.options.signal,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? 60_000,
      context,
      what,
      maxStdoutBytes,
    };
  }

  private check(signal: AbortSignal | undefined): void {
    if (this.closed) throw this.invalid('the VideoReader is closed');
    throwIfAborted(signal ?? this.options.signal, 'video decode');
  }

  private invalid(message: string): StrataError {
    return new StrataError(
      'INVALID_ARGUMENT',
      `${message}${describeContext(this.context)}`,
      contextDetails(this.context),
    );
  }

  /** Frame index of a decoded frame from its time relative to the file start. */
  private indexAt(seconds: number): number {
    return Math.round((seconds - this.info.startOffsetS) * this.info.fps);
  }

  /** The decoder handed back frame `got` for `want`: `want` was dropped (damaged data). */
  private verify(want: number, got: number): void {
    if (got === want) return;
    throw new StrataError(
      'CORRUPT',
      `frame ${want} could not be decoded${describeContext(this.context)}: the decoder skipped to frame ${got}`,
      {
        ...contextDetails({ ...this.context, frame: want }),
        hint: 'the video is damaged; re-encode it or drop the sample',
      },
    );
  }

  /** No (or a partial) frame came out although the index is in range. */
  private missing(i: number, got: number): StrataError {
    const details = { ...contextDetails(this.context), frame: i };
    if (!this.info.frameCountExact && got === 0 && i >= this.info.frameCount - 1) {
      // frameCount was estimated from duration × fps: the last estimated frame may not exist.
      return new StrataError(
        'INVALID_ARGUMENT',
        `frame ${i} is past the decodable end of the video${describeContext(this.context)}`,
        {
          ...details,
          hint: `frameCount ${this.info.frameCount} is an estimate for this container; probe with exactFrameCount`,
        },
      );
    }
    return new StrataError(
      'CORRUPT',
      `frame ${i} could not be decoded${describeContext(this.context)} (got ${got} bytes)`,
      {
        ...details,
        hint: 'the video is damaged or truncated; re-encode it or drop the sample',
      },
    );
  }
}
