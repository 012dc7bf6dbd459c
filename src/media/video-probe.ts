import { open } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError, throwIfAborted } from '../errors.js';
import { contextDetails, describeContext, type MediaContext } from './context.js';
import { runFfprobe, redactUrls } from './ffmpeg.js';
import { sniffVideo, type VideoFormat } from './image-header.js';
import { registerByteSource, type ByteSource, type Registration, type RegisterOptions } from './range-server.js';

/** A local path, a `file://` URL, an http(s) URL (e.g. a presigned S3 URL) or a byte source
 * (served to ffmpeg through the loopback range server, read only where ffmpeg seeks). */
export type VideoInput = string | ByteSource;

export interface VideoInfo {
  readonly durationS: number;
  readonly fps: number;
  /** From the container when it lists it (mp4/mov); else duration × fps, see `frameCountExact`. */
  readonly frameCount: number;
  readonly frameCountExact: boolean;
  /** Display size (after rotation metadata), which is what decoded frames have. */
  readonly width: number;
  readonly height: number;
  /** ffprobe's codec name: h264, hevc, vp9, av1, ... */
  readonly codec: string;
  /** Container: mp4, mov, webm, mkv, or ffprobe's format name for anything else. */
  readonly format: VideoFormat | (string & {});
  /** Video stream start relative to the file's start (non-zero when audio starts first). */
  readonly startOffsetS: number;
  /** Rotation metadata in degrees (0, 90, 180, 270). */
  readonly rotation: number;
}

export interface ProbeOptions {
  readonly signal?: AbortSignal;
  /** Default 60000. */
  readonly timeoutMs?: number;
  /** Names the sample in errors. */
  readonly context?: MediaContext;
  /** Count packets when the container lacks a frame count (reads the whole file). Default false. */
  readonly exactFrameCount?: boolean;
}

/** An input resolved for ffmpeg: its URL, a printable name, and cleanup. */
export interface ResolvedInput {
  readonly url: string;
  readonly name: string;
  readonly registration?: Registration;
  /** Options that go before `-i` (HTTP inputs: follow up bounded range responses). */
  readonly inputArgs: readonly string[];
  /** First bytes, when cheap to get (local file, byte source). */
  head(): Promise<Uint8Array | undefined>;
  release(): void;
}

/** The range server answers open-ended ranges in windows, and a premature end must lead to a new
 * request, not a silent EOF; for other servers it retries dropped connections (a second at most). */
const HTTP_INPUT_ARGS = ['-reconnect', '1', '-reconnect_delay_max', '2'];

const isHttp = (s: string): boolean => /^https?:\/\//i.test(s);

export async function resolveInput(
  input: VideoInput,
  context: MediaContext = {},
  options: RegisterOptions = {},
): Promise<ResolvedInput> {
  if (typeof input !== 'string') {
    const registration = await registerByteSource(input, options);
    return {
      url: registration.url,
      name: context.file ?? input.name ?? 'byte source',
      inputArgs: HTTP_INPUT_ARGS,
      registration,
      head: async () => (input.size > 0 ? input.read(0, Math.min(64, input.size)) : undefined),
      release: () => registration.release(),
    };
  }
  if (isHttp(input)) {
    return {
      url: input,
      name: context.file ?? redactUrls(input),
      inputArgs: HTTP_INPUT_ARGS,
      head: () => Promise.resolve(undefined),
      release: () => {},
    };
  }
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(input) && !input.startsWith('file://')) {
    throw new StrataError('INVALID_ARGUMENT', `unsupported video URL ${redactUrls(input)}${describeContext(context)}`, {
      ...contextDetails(context),
      hint: 'pass a local path, an http(s) URL (presign S3 objects) or a ByteSource',
    });
  }
  const path = resolvePath(input.startsWith('file://') ? fileURLToPath(input) : input);
  return {
    url: `file:${path}`, // the file: protocol stops ffmpeg reading "x:y" paths as protocols
    name: context.file ?? path,
    inputArgs: [],
    head: async () => {
      const fh = await open(path, 'r').catch(() => undefined);
      if (!fh) return undefined;
      try {
        const buf = Buffer.alloc(64);
        const { bytesRead } = await fh.read(buf, 0, 64, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    release: () => {},
  };
}

/** "30000/1001" → 29.97; undefined for 0/0 or junk. */
export function parseRate(rate: unknown): number | undefined {
  if (typeof rate !== 'string') return undefined;
  const [n, d = '1'] = rate.split('/');
  const v = Number(n) / Number(d);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** "00:00:03.040000000" → 3.04 (Matroska per-stream DURATION tag). */
function parseClock(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(s.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  start_time?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number }>;
}
interface ProbeJson {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string; tags?: Record<string, string> };
}

function containerFormat(json: ProbeJson, stream: ProbeStream, head: Uint8Array | undefined): VideoInfo['format'] {
  const sniffed = head ? sniffVideo(head) : undefined;
  if (sniffed) return sniffed;
  const name = json.format?.format_name ?? 'unknown';
  if (name.includes('mp4') || name.includes('mov'))
    return json.format?.tags?.major_brand?.trim() === 'qt' ? 'mov' : 'mp4';
  if (name.includes('matroska')) return ['vp8', 'vp9', 'av1'].includes(stream.codec_name ?? '') ? 'webm' : 'mkv';
  return name.split(',')[0];
}

/** Builds VideoInfo from ffprobe JSON. Exported for tests. */
export function videoInfoFromProbe(
  json: ProbeJson,
  head: Uint8Array | undefined,
  packets?: number,
): VideoInfo | undefined {
  const stream = json.streams?.find((s) => s.codec_type === 'video');
  if (!stream || !stream.width || !stream.height) return undefined;
  const fps = parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate);
  const durationS = num(stream.duration) ?? parseClock(stream.tags?.DURATION) ?? num(json.format?.duration);
  if (!fps || durationS === undefined) return undefined;
  const listed = packets ?? num(stream.nb_frames);
  const rotationRaw =
    stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? num(stream.tags?.rotate) ?? 0;
  const rotation = (((Math.round(rotationRaw / 90) * 90) % 360) + 360) % 360;
  const swap = rotation === 90 || rotation === 270;
  return {
    durationS,
    fps,
    frameCount: listed && listed > 0 ? listed : Math.max(1, Math.round(durationS * fps)),
    frameCountExact: listed !== undefined && listed > 0,
    width: swap ? stream.height : stream.width,
    height: swap ? stream.width : stream.height,
    codec: stream.codec_name ?? 'unknown',
    format: containerFormat(json, stream, head),
    startOffsetS: Math.max(0, (num(stream.start_time) ?? 0) - (num(json.format?.start_time) ?? 0)),
    rotation,
  };
}

/** Probes a resolved input; shared by probeVideo and VideoReader. */
export async function probeResolved(input: ResolvedInput, options: ProbeOptions = {}): Promise<VideoInfo> {
  const context = { ...options.context, file: input.name };
  const run = { signal: options.signal, timeoutMs: options.timeoutMs ?? 60_000, context, what: 'probe video' };
  try {
    const [out, head] = await Promise.all([
      runFfprobe([...input.inputArgs, '-print_format', 'json', '-show_format', '-show_streams', input.url], run),
      input.head().catch(() => undefined),
    ]);
    const json = JSON.parse(out.stdout.toString('utf8')) as ProbeJson;
    let packets: number | undefined;
    const stream = json.streams?.find((s) => s.codec_type === 'video');
    if (options.exactFrameCount && stream && num(stream.nb_frames) === undefined) {
      const counted = await runFfprobe(
        [
          ...input.inputArgs,
          '-select_streams',
          'v:0',
          '-count_packets',
          '-show_entries',
          'stream=nb_read_packets',
          '-of',
          'csv=p=0',
          input.url,
        ],
        run,
      );
      packets = num(counted.stdout.toString('utf8').trim().split(/[\s,]/)[0]);
    }
    const info = videoInfoFromProbe(json, head, packets);
    if (!info) {
      throw new StrataError('CORRUPT', `no decodable video stream${describeContext(context)}`, {
        ...contextDetails(context),
        hint: 'the file has no video track, or its frame rate/duration are missing; re-encode it',
      });
    }
    return info;
  } catch (err) {
    throw sourceFailure(input, err, context);
  }
}

/** When a byte source failed under ffmpeg, report that (IO) rather than blaming the media. */
export function sourceFailure(input: ResolvedInput, err: unknown, context: MediaContext): StrataError {
  const cause = input.registration?.lastError;
  if (cause === undefined || (err instanceof StrataError && err.code === 'ABORTED')) {
    if (err instanceof StrataError) return err;
    return new StrataError('IO', `video ${input.name}${describeContext(context)}: ${messageOf(err)}`, {
      ...contextDetails(context),
      cause: err,
    });
  }
  if (cause instanceof StrataError) return cause;
  return new StrataError('IO', `reading ${input.name} failed${describeContext(context)}: ${messageOf(cause)}`, {
    ...contextDetails(context),
    cause,
  });
}

/** Duration, fps, frame count, size, codec and container of a video via ffprobe. */
export async function probeVideo(input: VideoInput, options: ProbeOptions = {}): Promise<VideoInfo> {
  throwIfAborted(options.signal, 'video probe');
  const resolved = await resolveInput(input, options.context);
  try {
    return await probeResolved(resolved, options);
  } finally {
    resolved.release();
  }
}

/** An Error's message, or any other thrown value as text. */
function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}
