import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StrataError } from '../errors.js';

/** Random-access bytes: a chunk on S3, a local file, a Buffer. */
export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset+length); length is never 0 and never runs past `size`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** For messages, e.g. the storage URI. */
  readonly name?: string;
  /** Content-Type header. Default application/octet-stream. */
  readonly contentType?: string;
}

export interface RegisterOptions {
  /** Largest single `read` issued on the source. Default 262144 (256 KiB). */
  readonly blockSizeBytes?: number;
  /** Open-ended requests (`bytes=N-`, what ffmpeg sends) are answered with at most a window of
   * bytes, as a 206 whose Content-Range says where it stops; the client asks again for the rest
   * (ffmpeg/ffprobe need `-reconnect 1` for that, which VideoReader passes). The window starts
   * here, doubles while requests continue where the last one stopped (sequential reading) and
   * resets on a seek, so a seek costs at most one window however large the file.
   * Default 65536 (64 KiB). */
  readonly firstWindowBytes?: number;
  /** Largest window. Default 8 MiB. `Infinity`: answer open-ended requests in full, then
   * read-ahead is bounded only by socket buffers (often several MB on loopback). */
  readonly maxWindowBytes?: number;
  /** Once this registration is released and nothing else is registered, the shared server closes
   * after this long (a later registration restarts it). Default 2000. */
  readonly idleCloseMs?: number;
}

export interface Registration {
  /** http://127.0.0.1:<port>/s/<unguessable token> */
  readonly url: string;
  /** Requests and body bytes served so far. */
  readonly stats: { requests: number; bytesServed: number };
  /** The last error `read` threw, if any: lets a caller report IO instead of blaming the media. */
  readonly lastError: unknown;
  /** Idempotent. The URL answers 404 afterwards; the server closes once nothing is registered. */
  release(): void;
  [Symbol.dispose](): void;
}

interface Entry {
  readonly source: ByteSource;
  readonly blockSize: number;
  readonly firstWindow: number;
  readonly maxWindow: number;
  readonly idleCloseMs: number;
  window: number;
  /** Where the last open-ended response stopped: a request starting here is sequential. */
  nextOffset: number;
  readonly reg: { requests: number; bytesServed: number };
  lastError: unknown;
}

const entries = new Map<string, Entry>();
let server: Server | undefined;
let listening: Promise<number> | undefined;
let idleTimer: NodeJS.Timeout | undefined;

type ParsedRange = { start: number; end: number; openEnded: boolean } | 'unsatisfiable' | undefined;

/** One `bytes=` range against a size; undefined means serve the whole body (no or multi range). */
export function parseRange(header: string | undefined, size: number): ParsedRange {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined; // multiple or malformed ranges: RFC 9110 lets us ignore Range
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1, openEnded: false };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end, openEnded: b === '' };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const token = /^\/s\/([0-9a-f]+)$/.exec(req.url ?? '')?.[1];
  const entry = token ? entries.get(token) : undefined;
  if (!entry) {
    res.writeHead(404, { 'Content-Length': 0 }).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 }).end();
    return;
  }
  entry.reg.requests++;
  const { size } = entry.source;
  const range = parseRange(req.headers.range, size);
  const headers: Record<string, string | number> = {
    'Accept-Ranges': 'bytes',
    'Content-Type': entry.source.contentType ?? 'application/octet-stream',
    'Cache-Control': 'no-store',
  };
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 }).end();
    return;
  }
  const start = range?.start ?? 0;
  let end = range?.end ?? size - 1;
  if (range && range.openEnded && entry.maxWindow !== Infinity) {
    entry.window = start === entry.nextOffset ? Math.min(entry.maxWindow, entry.window * 2) : entry.firstWindow;
    end = Math.min(end, start + entry.window - 1);
    entry.nextOffset = end + 1;
  }
  const length = end - start + 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': length });
  if (req.method === 'HEAD' || length <= 0) {
    res.end();
    return;
  }
  let gone = false;
  res.once('close', () => (gone = true));
  for (let at = start; at <= end && !gone;) {
    const n = Math.min(entry.blockSize, end - at + 1);
    let block: Uint8Array;
    try {
      block = await entry.source.read(at, n);
      if (block.length !== n) throw new Error(`read(${at}, ${n}) returned ${block.length} bytes`);
    } catch (err) {
      entry.lastError = err;
      res.destroy(); // headers are out: cutting the body is the only way to signal failure
      return;
    }
    if (gone) return;
    at += n;
    entry.reg.bytesServed += n;
    if (!res.write(block)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!gone) res.end();
}

function ensureServer(): Promise<number> {
  if (listening) return listening;
  const srv = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  srv.keepAliveTimeout = 5_000;
  srv.on('connection', (socket) => socket.unref()); // an idle keep-alive socket never holds the process
  server = srv;
  listening = new Promise<number>((resolve, reject) => {
    srv.once('error', (err) => {
      server = undefined;
      listening = undefined;
      reject(new StrataError('IO', `cannot start the loopback range server: ${err.message}`, { cause: err }));
    });
    srv.listen(0, '127.0.0.1', () => {
      srv.unref(); // never keeps the process alive
      resolve((srv.address() as AddressInfo).port);
    });
  });
  return listening;
}

function scheduleIdleClose(idleCloseMs: number): void {
  if (idleTimer || entries.size > 0) return;
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (entries.size === 0) void closeRangeServer();
  }, idleCloseMs);
  idleTimer.unref();
}

/**
 * Serves a byte source over loopback HTTP with full Range support (206/416, Content-Range,
 * Accept-Ranges, HEAD), so ffmpeg/ffprobe can seek inside a video stored in a chunk on S3 or
 * disk and read only what they need. Bodies are streamed block by block as the client reads;
 * open-ended ranges get a bounded window (see {@link RegisterOptions.firstWindowBytes}).
 * One server per process, started lazily on 127.0.0.1 with an OS-assigned port, unref'd (it never keeps the process alive) and closed once idle. URLs carry a
 * random 128-bit token and answer only while registered.
 */
export async function registerByteSource(source: ByteSource, options: RegisterOptions = {}): Promise<Registration> {
  const {
    blockSizeBytes = 256 * 1024,
    firstWindowBytes = 64 * 1024,
    maxWindowBytes = 8 * 1024 * 1024,
    idleCloseMs = 2_000,
  } = options;
  if (!Number.isSafeInteger(source.size) || source.size < 0) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `byte source${source.name ? ` ${source.name}` : ''} has an invalid size ${source.size}`,
      { field: 'size' },
    );
  }
  for (const [field, v] of Object.entries({ blockSizeBytes, firstWindowBytes, maxWindowBytes })) {
    if (!(v === Infinity || (Number.isInteger(v) && v > 0))) {
      throw new StrataError('INVALID_ARGUMENT', `${field} must be a positive integer, got ${v}`, { field });
    }
  }
  if (!(Number.isFinite(idleCloseMs) && idleCloseMs >= 0)) {
    throw new StrataError('INVALID_ARGUMENT', `idleCloseMs must be >= 0, got ${idleCloseMs}`, {
      field: 'idleCloseMs',
    });
  }
  const port = await ensureServer();
  if (!listening) return registerByteSource(source, options); // closed while we waited
  if (idleTimer) {
    clearTimeout(idleTimer);
    idleTimer = undefined;
  }
  const token = randomBytes(16).toString('hex');
  const entry: Entry = {
    source,
    blockSize: Math.min(blockSizeBytes, 2 ** 30),
    firstWindow: Math.min(firstWindowBytes, maxWindowBytes),
    maxWindow: maxWindowBytes,
    idleCloseMs,
    window: firstWindowBytes,
    nextOffset: -1,
    reg: { requests: 0, bytesServed: 0 },
    lastError: undefined,
  };
  entries.set(token, entry);
  const release = (): void => {
    if (entries.get(token) === entry) {
      entries.delete(token);
      scheduleIdleClose(entry.idleCloseMs);
    }
  };
  return {
    url: `http://127.0.0.1:${port}/s/${token}`,
    stats: entry.reg,
    get lastError() {
      return entry.lastError;
    },
    release,
    [Symbol.dispose]: release,
  };
}

/** Closes the shared server now (tests; process shutdown). Registered URLs stop answering. */
export async function closeRangeServer(): Promise<void> {
  const srv = server;
  server = undefined;
  listening = undefined;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  entries.clear();
  if (!srv) return;
  await new Promise<void>((resolve) => {
    srv.close(() => resolve());
    srv.closeAllConnections();
  });
}

/** Whether the shared server is running (for tests). */
export const rangeServerRunning = (): boolean => server !== undefined;
