/**
 * The dataset viewer behind `strata view`: a local web page (127.0.0.1 by default) with a grid of
 * thumbnails, video posters with frame scrubbing, labels and boxes drawn over images, filters,
 * paging and "similar images" over an embedding column. One static page plus a JSON API:
 *
 *   GET /  /app.js  /app.css      the page, built from src/serve/viewer/browser/ (no CDN; see viewer/assets.ts)
 *   GET /api/info                 dataset, columns, roles
 *   GET /api/values?column=c      distinct values with counts (for filters)
 *   GET /api/rows?offset&limit&filter={"label":"cat"}
 *   GET /api/similar?row=r&k=12[&column=emb][&filter=...]
 *   GET /api/sql?q=SELECT…[&limit=1000]                 the query bar: ds.sql (table ds), JSON rows
 *   GET /api/thumb/:column/:row?size=256[&t=seconds]   JPEG (images: sharp thumbnail; videos: a frame)
 *   GET /api/frame/:column/:row?t=seconds[&size=640]   JPEG of one video frame (scrubbing)
 *
 * Thumbnails and frames are cached in memory (byte-bounded LRU).
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import sharp from 'sharp';
import { ImageCell, VideoCell } from '../dataset/cells.js';
import type { Dataset } from '../dataset/dataset.js';
import { StrataError, type ErrorCode } from '../errors.js';
import { thumbnail } from '../media/image.js';
import { ByteLru } from './viewer-cache.js';
import {
  type ViewerColumn,
  type ViewerRoles,
  describeColumns,
  pageRows,
  parseFilter,
  pickRoles,
  rowsAt,
} from './viewer-data.js';
import { embeddingColumns, similarRows } from './viewer-similar.js';
import { registerSqlRoute } from './viewer-sql.js';
import { listenApp } from './listen.js';
import { loadViewerFiles } from './viewer/assets.js';
import type { InfoResponse, RowsResponse, SimilarResponse, ValuesResponse } from './viewer/wire.js';

export interface ViewerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: any free port (see `url`). */
  readonly port?: number;
  /** Grid thumbnail size (longest side). Default 256. */
  readonly thumbSizePx?: number;
  /** Memory for cached thumbnails and frames. Default 64 MiB. */
  readonly cacheBytes?: number;
  /** Rows per page when the page does not say. Default 48. */
  readonly pageSize?: number;
  /** Media column to show. Default: the first image or video column. */
  readonly mediaColumn?: string;
  /** Embedding column for "similar". Default: the first embedding column. */
  readonly embeddingColumn?: string;
}

export interface Viewer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly cache: ByteLru;
  /** Stops the server. Idempotent; does not close the dataset. */
  close(): Promise<void>;
}

const STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  CORRUPT: 500,
  INVALID_ARGUMENT: 400,
  IO: 503,
  ABORTED: 503,
  UNSUPPORTED: 400,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
  UNAUTHORIZED: 401,
};
const MAX_LIMIT = 500;
const MAX_SIZE = 2048;

export async function startViewer(ds: Dataset, options: ViewerOptions = {}): Promise<Viewer> {
  const host = options.host ?? '127.0.0.1';
  const thumbSize = options.thumbSizePx ?? 256;
  const pageSize = options.pageSize ?? 48;
  const cache = new ByteLru(options.cacheBytes ?? 64 * 1024 * 1024);
  const columns = describeColumns(ds);
  for (const [opt, col] of [
    ['mediaColumn', options.mediaColumn],
    ['embeddingColumn', options.embeddingColumn],
  ] as const) {
    if (col !== undefined && !columns.some((c) => c.name === col)) {
      throw new StrataError('NOT_FOUND', `column ${col} does not exist in ${ds.uri}`, {
        column: col,
        field: opt,
        hint: `columns are: ${ds.columns.join(', ')}`,
      });
    }
  }
  const files = await loadViewerFiles();
  const roles = pickRoles(columns, { media: options.mediaColumn, embedding: options.embeddingColumn });
  const views = new Map<string, Promise<Dataset>>();
  const filtered = (filter: Record<string, unknown> | undefined): Promise<Dataset> => {
    if (!filter) return Promise.resolve(ds);
    const key = JSON.stringify(filter);
    let p = views.get(key);
    if (!p) {
      p = ds.filter(filter).collect();
      p.catch(() => views.delete(key));
      views.set(key, p);
      if (views.size > 32) views.delete(views.keys().next().value as string);
    }
    return p;
  };

  const app = Fastify({ logger: false });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof StrataError) return sendError(reply, STATUS[err.code] ?? 500, err.code, err.message);
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500)
      return sendError(reply, status, 'INVALID_ARGUMENT', (err as Error).message);
    return sendError(reply, 500, 'INTERNAL', (err as Error).message);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  for (const f of files) {
    app.get(f.path, (_req, reply) => reply.type(f.type).header('cache-control', 'no-store').send(f.body));
  }
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());

  app.get('/api/info', (): InfoResponse => ({
    uri: ds.uri,
    version: ds.version,
    length: ds.length,
    columns,
    roles,
    embeddingColumns: embeddingColumns(ds),
    pageSize,
    thumbSize,
  }));

  app.get<{ Querystring: { column?: string } }>('/api/values', async (req): Promise<ValuesResponse> => {
    const col = filterableColumn(columns, req.query.column);
    const counts = await ds.groupBy(col.name).count();
    return {
      column: col.name,
      values: counts.slice(0, 1000).map((c) => ({ value: c.key, count: c.count })),
      distinct: counts.length,
    };
  });

  app.get<{ Querystring: { offset?: string; limit?: string; filter?: string } }>(
    '/api/rows',
    async (req): Promise<RowsResponse> => {
      const offset = intParam(req.query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = intParam(req.query.limit, 'limit', pageSize, 1, MAX_LIMIT);
      const filter = parseFilter(req.query.filter, columns);
      const view = await filtered(filter);
      const rows = await pageRows(view, offset, limit, roles);
      return { total: view.length, offset, limit, filter: filter ?? null, rows };
    },
  );

  app.get<{ Querystring: { row?: string; k?: string; column?: string; filter?: string } }>(
    '/api/similar',
    async (req): Promise<SimilarResponse> => {
      const column = req.query.column ?? roles.embedding;
      if (!column) {
        throw new StrataError('NOT_FOUND', `${ds.uri} has no embedding column to search`, {
          hint: 'compute one with strata embed',
        });
      }
      if (!columns.some((c) => c.name === column && c.kind === 'embedding')) {
        throw new StrataError('INVALID_ARGUMENT', `column ${column} is not an embedding column`, {
          column,
          hint: `embedding columns: ${embeddingColumns(ds).join(', ') || '(none)'}`,
        });
      }
      const row = intParam(req.query.row, 'row', -1, 0, ds.length - 1);
      const k = intParam(req.query.k, 'k', 12, 1, MAX_LIMIT);
      const filter = parseFilter(req.query.filter, columns);
      const within = filter ? (await filtered(filter)).indices() : undefined;
      const hits = await similarRows(ds, column, { row }, { k, exclude: row, ...(within ? { within } : {}) });
      const rows = await rowsAt(
        ds,
        hits.map((h) => h.row),
        roles,
      );
      return {
        column,
        query: row,
        metric: 'cosine',
        rows: rows.map((r, j) => ({ ...r, rowId: hits[j].rowId, score: hits[j].score })),
      };
    },
  );

  registerSqlRoute(app, ds);

  type MediaParams = { Params: { column: string; row: string }; Querystring: { size?: string; t?: string } };
  app.get<MediaParams>('/api/thumb/:column/:row', async (req, reply) => {
    const size = intParam(req.query.size, 'size', thumbSize, 8, MAX_SIZE);
    const { cell, column, row } = await mediaCell(ds, columns, req.params.column, req.params.row);
    const t = req.query.t === undefined ? undefined : numParam(req.query.t, 't');
    const key = `${ds.version}/${column}/${row}/${size}/${t ?? ''}`;
    const jpeg = await cache.getOrCompute(key, async () =>
      cell instanceof VideoCell
        ? videoJpeg(cell, t ?? posterTime(cell), size)
        : thumbnail(await cell.bytes(), size, {}, { column, row }),
    );
    return sendJpeg(reply, jpeg);
  });

  app.get<MediaParams>('/api/frame/:column/:row', async (req, reply) => {
    const size = intParam(req.query.size, 'size', 640, 8, MAX_SIZE);
    const { cell, column, row } = await mediaCell(ds, columns, req.params.column, req.params.row);
    if (!(cell instanceof VideoCell))
      throw new StrataError('INVALID_ARGUMENT', `column ${column} holds images, not videos`, {
        column,
        hint: 'use /api/thumb',
      });
    const t = Math.max(
      0,
      Math.min(numParam(req.query.t ?? '0', 't'), Math.max(0, cell.info.durationS - 1 / Math.max(1, cell.info.fps))),
    );
    const key = `${ds.version}/${column}/${row}/f${size}/${t.toFixed(3)}`;
    return sendJpeg(reply, await cache.getOrCompute(key, () => videoJpeg(cell, t, size)));
  });

  const { url, port, close } = await listenApp(app, host, options.port);
  return { url, port, app, cache, close, [Symbol.asyncDispose]: close };
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ error: { code, message } }));
}

function sendJpeg(reply: FastifyReply, bytes: Uint8Array): FastifyReply {
  return reply
    .type('image/jpeg')
    .header('cache-control', 'private, max-age=3600')
    .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function intParam(raw: string | undefined, field: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') {
    if (fallback < min) throw new StrataError('INVALID_ARGUMENT', `query parameter ${field} is required`, { field });
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new StrataError('INVALID_ARGUMENT', `query parameter ${field}=${raw} must be an integer in ${min}..${max}`, {
      field,
    });
  }
  return n;
}

function numParam(raw: string, field: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new StrataError('INVALID_ARGUMENT', `query parameter ${field}=${raw} must be a number >= 0`, { field });
  return n;
}

function filterableColumn(columns: readonly ViewerColumn[], name: string | undefined): ViewerColumn {
  const col = columns.find((c) => c.name === name);
  if (!col || !col.filterable) {
    throw new StrataError('INVALID_ARGUMENT', `cannot list values of column ${String(name)}`, {
      field: 'column',
      hint: `filterable columns: ${
        columns
          .filter((c) => c.filterable)
          .map((c) => c.name)
          .join(', ') || '(none)'
      }`,
    });
  }
  return col;
}

async function mediaCell(
  ds: Dataset,
  columns: readonly ViewerColumn[],
  column: string,
  rawRow: string,
): Promise<{ cell: ImageCell | VideoCell; column: string; row: number }> {
  const col = columns.find((c) => c.name === column);
  if (!col || (col.kind !== 'image' && col.kind !== 'video')) {
    throw new StrataError('NOT_FOUND', `no image or video column ${column} in ${ds.uri}`, { column });
  }
  const row = intParam(rawRow, 'row', -1, 0, Math.max(0, ds.length - 1));
  if (row >= ds.length) throw new StrataError('NOT_FOUND', `row ${row} does not exist`, { row });
  const [cell] = await ds.readCells(column, [row]);
  if (!(cell instanceof ImageCell) && !(cell instanceof VideoCell)) {
    throw new StrataError('NOT_FOUND', `row ${row} of column ${column} is empty`, { row, column });
  }
  return { cell, column, row };
}

/** Poster frame: a tenth into the video (skips black lead-ins), at most 1 s. */
function posterTime(v: VideoCell): number {
  return Math.min(1, Math.max(0, v.info.durationS * 0.1));
}

async function videoJpeg(v: VideoCell, t: number, size: number): Promise<Uint8Array> {
  const f = await v.frameAt(t);
  const [h, w] = f.shape;
  const out = await sharp(Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength), {
    raw: { width: w, height: h, channels: 3 },
  })
    .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export type { ViewerColumn, ViewerRoles };
