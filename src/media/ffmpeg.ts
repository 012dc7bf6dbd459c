import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { Readable, Transform } from 'node:stream';
import { StrataError, type ErrorCode } from '../errors.js';
import { contextDetails, describeContext, type MediaContext } from './context.js';

const require = createRequire(import.meta.url);

function resolveBinary(envVar: 'FFMPEG_PATH' | 'FFPROBE_PATH', pkg: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  try {
    return (require(pkg) as { path: string }).path;
  } catch (err) {
    throw new StrataError(
      'UNAVAILABLE',
      `no ${envVar === 'FFMPEG_PATH' ? 'ffmpeg' : 'ffprobe'} binary: ${pkg} is not usable on this platform`,
      {
        cause: err,
        hint: `install ${pkg} or set ${envVar} to a binary`,
      },
    );
  }
}

/** FFMPEG_PATH if set, else the binary shipped by @ffmpeg-installer/ffmpeg. */
export const ffmpegPath = (): string => resolveBinary('FFMPEG_PATH', '@ffmpeg-installer/ffmpeg');
/** FFPROBE_PATH if set, else the binary shipped by @ffprobe-installer/ffprobe. */
export const ffprobePath = (): string => resolveBinary('FFPROBE_PATH', '@ffprobe-installer/ffprobe');

export type ProcessInput = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Written to the process's stdin, which is then closed. Default: stdin closed at once. */
  readonly stdin?: ProcessInput;
  /** Kill the process and raise TIMEOUT after this long. Default 120000. */
  readonly timeoutMs?: number;
  /** Kill the process and raise IO if stdout grows past this. Default 1 GiB. */
  readonly maxStdoutBytes?: number;
  /** Names the sample in errors (file/URL, column, row). */
  readonly context?: MediaContext;
  /** What the process does, for messages, e.g. 'decode frame 12'. */
  readonly what?: string;
  /** Called with each complete stderr line (e.g. to parse `showinfo` output). */
  readonly onStderrLine?: (line: string) => void;
}

export interface RunResult {
  readonly stdout: Buffer;
  /** The last few KB of stderr. */
  readonly stderr: string;
}

export interface ProcessHandle {
  /** Raw stdout; consume it (or the process may stall on a full pipe). */
  readonly stdout: Readable;
  /** Resolves when the process exits 0; rejects with a classified StrataError otherwise. */
  readonly done: Promise<{ readonly stderr: string }>;
  /** Idempotent: SIGKILL if still running. */
  kill(): void;
}

const STDERR_TAIL_BYTES = 4096;

const PATTERNS: ReadonlyArray<[ErrorCode, RegExp]> = [
  ['NOT_FOUND', /No such file or directory|404 Not Found|Server returned 404/i],
  ['UNAUTHORIZED', /40[13] (Forbidden|Unauthorized)|Server returned 40[13]/i],
  [
    'IO',
    /Connection (refused|reset|timed out)|Input\/output error|Server returned 5\d\d|Broken pipe|Network is unreachable/i,
  ],
  [
    'CORRUPT',
    /Invalid data found|moov atom not found|could not find codec parameters|error while decoding|decode_slice|Invalid NAL|non-existing PPS|no frame!|EBML header parsing failed|corrupt|truncat|partial file|Error splitting|Failed to read frame|Error while decoding|stream 0, offset .*: partial|Packet mismatch|Header missing|error reading header|End of file/i,
  ],
];

/** The code a failed ffmpeg/ffprobe run maps to, from its stderr: CORRUPT for undecodable input,
 * NOT_FOUND/UNAUTHORIZED for a missing or forbidden input, IO otherwise. */
export function classifyFailure(stderr: string): ErrorCode {
  for (const [code, re] of PATTERNS) if (re.test(stderr)) return code;
  return 'IO';
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  CORRUPT: 'the media is damaged, truncated or not a video; re-encode it or drop the sample',
  NOT_FOUND: 'check the path or URL',
  UNAUTHORIZED: 'check the credentials, or refresh a presigned URL',
  IO: 'retry; if it persists, check the source is reachable',
};

/** Hides query strings (presigned URL signatures) in text that reaches messages and logs. */
export const redactUrls = (text: string): string =>
  text.replace(/(https?:\/\/[^\s?'"]+)\?[^\s'"]*?(?=:?(?:\s|$|['"]))/gi, '$1?…');

const LEVEL_TAG = /\[(trace|debug|verbose|info|warning|error|fatal|panic)\] /;

/** The diagnostic lines of stderr: with `-loglevel level+...` only warnings and worse, tags removed. */
export function diagnosticLines(stderr: string): string[] {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.some((l) => LEVEL_TAG.test(l))) return lines;
  return lines.filter((l) => /\[(warning|error|fatal|panic)\] /.test(l)).map((l) => l.replace(LEVEL_TAG, ''));
}

/** Last diagnostic lines, compacted for a message. */
function summary(stderr: string): string {
  return diagnosticLines(stderr).slice(-3).join(' | ').slice(-400) || 'no diagnostic output';
}

function feed(child: ChildProcessWithoutNullStreams, input: ProcessInput | undefined): void {
  // The process may exit before reading all input (EPIPE); its exit code tells what happened.
  child.stdin.on('error', () => {});
  if (input === undefined) child.stdin.end();
  else if (input instanceof Uint8Array) child.stdin.end(input);
  else
    Readable.from(input, { objectMode: false })
      .on('error', () => child.kill('SIGKILL'))
      .pipe(child.stdin);
}

/** Spawns a process whose stdout the caller streams. See {@link runProcess} for the error model. */
export function startProcess(bin: string, args: readonly string[], options: RunOptions = {}): ProcessHandle {
  const { signal, context = {}, what = 'run ffmpeg', timeoutMs = 120_000, maxStdoutBytes = 2 ** 30 } = options;
  const label = `${what}${describeContext(context)}`;
  let failure: StrataError | undefined;
  let stderr = '';
  let stdoutBytes = 0;
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const fail = (code: ErrorCode, message: string, extra: object = {}): void => {
    failure ??= new StrataError(code, message, { ...contextDetails(context), ...extra });
    kill();
  };
  const onAbort = (): void => fail('ABORTED', `${label} was aborted`, { cause: signal?.reason as unknown });
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => fail('TIMEOUT', `${label} took longer than ${timeoutMs} ms`, { hint: 'raise timeoutMs' }),
    timeoutMs,
  );
  timer.unref();

  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-2 * STDERR_TAIL_BYTES);
    if (!options.onStderrLine) return;
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onStderrLine(line);
  });
  child.stderr.once('end', () => {
    if (partial && options.onStderrLine) options.onStderrLine(partial);
  });
  // Counted on the way through; piping keeps backpressure and holds data until a consumer attaches.
  const stdout = child.stdout.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, next) {
        stdoutBytes += chunk.length;
        if (stdoutBytes > maxStdoutBytes) {
          fail('IO', `${label} produced more than ${maxStdoutBytes} bytes of output`);
          return next();
        }
        next(null, chunk);
      },
    }),
  );
  feed(child, options.stdin);

  const done = new Promise<{ stderr: string }>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail('UNAVAILABLE', `cannot start ${bin} to ${label}: ${err.message}`, {
        cause: err,
        hint: 'set FFMPEG_PATH / FFPROBE_PATH to a working binary',
      });
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      // Keep whole lines only (a cut line could hold half a URL), then hide query strings.
      if (stderr.length >= 2 * STDERR_TAIL_BYTES) stderr = stderr.slice(stderr.indexOf('\n') + 1);
      stderr = redactUrls(stderr).slice(-STDERR_TAIL_BYTES);
      signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code === 0) return resolve({ stderr });
      const errCode = classifyFailure(diagnosticLines(stderr).join('\n'));
      reject(
        new StrataError(errCode, `cannot ${label}: ${summary(stderr)}`, {
          ...contextDetails(context),
          hint: HINTS[errCode],
          exitCode: code,
          signal: sig,
          stderr,
        }),
      );
    });
  });
  done.catch(() => {}); // callers that only read stdout still see the failure when they await done
  return { stdout, done, kill };
}

/**
 * Runs a process to completion, collecting stdout. Failures are StrataErrors naming `context`:
 * ABORTED (signal), TIMEOUT, UNAVAILABLE (binary missing), and for a non-zero exit the code
 * {@link classifyFailure} derives from stderr (CORRUPT, NOT_FOUND, UNAUTHORIZED, else IO), with
 * the stderr tail in `details.stderr`.
 */
export async function runProcess(bin: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const handle = startProcess(bin, args, options);
  const chunks: Buffer[] = [];
  handle.stdout.on('data', (c: Buffer) => chunks.push(c));
  const { stderr } = await handle.done;
  return { stdout: Buffer.concat(chunks), stderr };
}

/** ffmpeg with `-hide_banner -nostdin -loglevel error` prepended (unless stdin is fed). */
export function runFfmpeg(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const base = ['-hide_banner', '-loglevel', 'error', ...(options.stdin === undefined ? ['-nostdin'] : [])];
  return runProcess(ffmpegPath(), [...base, ...args], options);
}

/** ffprobe with `-v error` prepended. */
export function runFfprobe(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runProcess(ffprobePath(), ['-v', 'error', ...args], { what: 'probe video', ...options });
}
