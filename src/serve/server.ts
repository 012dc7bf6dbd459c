/**
 * The HTTP feature server (Fastify), speaking Feast's wire format so Feast clients work:
 * POST /get-online-features, /push, /materialize, /materialize-incremental, /search; GET /health, /metrics,
 * and the monitoring page at GET /monitor/ (its data at /monitor/api/monitor).
 *
 * Safe by default: binds 127.0.0.1; bearer token (option or STRATA_TOKEN) on every route but /health;
 * body and batch limits; every body validated against a JSON schema (400 naming the field); unknown
 * feature → 404 naming it; store down → 503 (the store reconnects, no restart needed); `close()` drains
 * in-flight requests.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { StrataError, type ErrorCode } from '../errors.js';
import {
  getOnlineFeatures,
  materialize,
  materializeIncremental,
  pushToOnline,
  searchOnline,
  FeatureLogger,
  type FeatureLoggingOptions,
  type OnlineRepo,
  type OnlineStore,
} from '../online/index.js';
import type { Metric } from '../dataset/search/metrics.js';
import {
  dfToEvents,
  feastResponse,
  GET_ONLINE_FEATURES_SCHEMA,
  isoTimestamp,
  MATERIALIZE_INCREMENTAL_SCHEMA,
  MATERIALIZE_SCHEMA,
  parseTimestamp,
  plainValue,
  PUSH_SCHEMA,
  SEARCH_SCHEMA,
} from './feast.js';
import { viewFreshness } from '../online/freshness.js';
import { DriftStatusCache, driftFeatureMonitors } from '../online/drift-monitor.js';
import { storeMonitorSource } from '../online/monitor.js';
import { listenApp } from './listen.js';
import { ServerMetrics } from './metrics.js';
import { mountMonitorPage } from './monitor-page.js';
import { StreamPublisher, type StreamSourceOptions } from './stream-publish.js';

export interface FeatureServerOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  readonly host?: string;
  /** Default 0: any free port (see `url`). */
  readonly port?: number;
  /** Bearer token required on every route but /health. Default: env STRATA_TOKEN; unset or empty: no auth. */
  readonly token?: string;
  /** Largest accepted request body. Default 1 MiB; larger → 413. */
  readonly bodyLimitBytes?: number;
  /** Most entity rows per /get-online-features request. Default 1000; more → 400. */
  readonly maxEntitiesPerRequest?: number;
  /** Most rows per /push request. Default 10000; more → 400. */
  readonly maxPushRows?: number;
  /** `/metrics` re-reads the repo's statistics runs for its drift gauges at most this often. Default 30 000. */
  readonly driftCacheMs?: number;
  /** `true`/Fastify logger options, or a pino-compatible logger instance. Default: no logging. */
  readonly logger?: boolean | Record<string, unknown> | FastifyBaseLogger;
  /** `close()` force-closes connections still open after this long. Default 10000. */
  readonly shutdownTimeoutMs?: number;
  /**
   * Where `kind: stream` sources' transports are (Redis URL, NATS URL): `/push` to a stream source
   * publishes onto its stream (consumed by `strata stream` processes) instead of updating this
   * process's window state. Push sources keep the single-process behaviour.
   */
  readonly streams?: StreamSourceOptions;
  /**
   * Log a sample of /get-online-features answers to a Strata dataset (docs/MONITORING.md).
   * Default: the repo's `logging` setting (strata.yaml); `false` turns it off.
   */
  readonly logging?: FeatureLoggingOptions | false;
}

export interface FeatureServer extends AsyncDisposable {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly metrics: ServerMetrics;
  /** The Fastify instance (for adding routes before traffic, or inject() in tests). */
  readonly app: FastifyInstance;
  /** The served-feature log, when logging is on (`flush()` it to see the latest requests in the dataset). */
  readonly featureLog?: FeatureLogger;
  /** Stops accepting, waits for in-flight requests, then closes. Idempotent. Does not close the store. */
  close(): Promise<void>;
}

const HTTP_STATUS: Record<ErrorCode, number> = {
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

function errorBody(code: string, message: string, details: Record<string, unknown> = {}): string {
  const error: Record<string, unknown> = { code, message };
  for (const k of ['field', 'key', 'column', 'hint']) if (details[k] !== undefined) error[k] = details[k];
  return JSON.stringify({ error, detail: message });
}

/** `/entities/user_id/0` + missing `x` → `entities.user_id.0.x`. */
function fieldOf(err: { instancePath?: string; params?: Record<string, unknown> }): string {
  const parts = (err.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = err.params?.missingProperty ?? err.params?.additionalProperty;
  if (typeof extra === 'string') parts.push(extra);
  return parts.join('.') || '(body)';
}

export async function createFeatureServer(
  repo: OnlineRepo,
  store: OnlineStore,
  options: FeatureServerOptions = {},
): Promise<FeatureServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? process.env.STRATA_TOKEN ?? '';
  const maxEntities = options.maxEntitiesPerRequest ?? 1000;
  const maxPushRows = options.maxPushRows ?? 10_000;
  const metrics = new ServerMetrics();
  const driftCache = new DriftStatusCache(repo, { ttlMs: options.driftCacheMs ?? 30_000 });
  const publisher = new StreamPublisher(repo, options.streams ?? {});
  const logSettings = options.logging === false ? undefined : (options.logging ?? repo.logging);
  const featureLog = logSettings
    ? await FeatureLogger.open({
        onFlushError: (err) => app.log.warn({ err }, 'served-feature log append failed'),
        ...logSettings,
      })
    : undefined;
  const logger = options.logger;
  const isInstance =
    typeof logger === 'object' && logger !== null && typeof (logger as FastifyBaseLogger).child === 'function';

  const app = Fastify({
    ...(isInstance
      ? { loggerInstance: logger as FastifyBaseLogger }
      : { logger: (logger as boolean | Record<string, unknown>) ?? false }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: {
      customOptions: {
        allowUnionTypes: true,
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false,
        useDefaults: false,
      },
    },
  });

  // ---------------------------------------------------------------- auth, metrics, errors
  // Per-route hooks (not global ones): each knows its route label without building routeOptions.
  const tokenHash = token ? createHash('sha256').update(token).digest() : undefined;
  const authorized = (req: FastifyRequest): boolean => {
    if (!tokenHash) return true;
    const h = req.headers.authorization;
    const given = h && h.startsWith('Bearer ') ? h.slice(7).trim() : '';
    return given !== '' && timingSafeEqual(createHash('sha256').update(given).digest(), tokenHash);
  };
  const deny = (req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .type('application/json; charset=utf-8')
      .send(
        errorBody('UNAUTHORIZED', req.headers.authorization ? 'bearer token is wrong' : 'missing bearer token', {
          hint: 'send Authorization: Bearer <STRATA_TOKEN>',
        }),
      );
  const auth = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (authorized(req)) done();
    else deny(req, reply);
  };
  const observe = (route: string) => (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.observe(route, req.method, reply.statusCode, reply.elapsedTime);
    done();
  };
  const hooks = (route: string, open = false) => ({ ...(open ? {} : { onRequest: auth }), onResponse: observe(route) });

  const sendError = (
    reply: FastifyReply,
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
  ) => {
    if (status === 503) reply.header('retry-after', '1');
    return reply
      .code(status)
      .type('application/json; charset=utf-8')
      .send(errorBody(code, message, details));
  };

  app.setErrorHandler((err: FastifyError | StrataError, req, reply) => {
    if (err instanceof StrataError) {
      const status = HTTP_STATUS[err.code] ?? 500;
      if (err.code === 'UNAVAILABLE' || err.code === 'IO') metrics.storeError(store.kind);
      if (status >= 500) req.log.warn({ err }, 'request failed');
      return sendError(reply, status, err.code, err.message, err.details);
    }
    if (err.validation && err.validation.length) {
      const v = err.validation[0] as { instancePath?: string; params?: Record<string, unknown>; message?: string };
      const field = fieldOf(v);
      return sendError(reply, 400, 'INVALID_ARGUMENT', `body field ${field} ${v.message ?? 'is invalid'}`, { field });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(
        reply,
        413,
        'INVALID_ARGUMENT',
        `request body is larger than ${app.initialConfig.bodyLimit} bytes`,
        {
          field: '(body)',
          hint: 'send fewer entities per request',
        },
      );
    }
    if (
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err instanceof SyntaxError
    ) {
      return sendError(reply, 400, 'INVALID_ARGUMENT', `request body is not valid JSON: ${err.message}`, {
        field: '(body)',
      });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'unhandled error');
    return sendError(
      reply,
      status,
      status === 500 ? 'INTERNAL' : 'INVALID_ARGUMENT',
      status === 500 ? 'internal error' : err.message,
    );
  });

  app.setNotFoundHandler((req, reply) => {
    reply.raw.once('finish', () => metrics.observe('unmatched', req.method, reply.statusCode, reply.elapsedTime));
    if (!authorized(req)) return deny(req, reply);
    return sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, {
      hint: 'routes: POST /get-online-features, /push, /materialize, /materialize-incremental, /search; GET /health, /metrics, /monitor/',
    });
  });

  // ---------------------------------------------------------------- routes
  type GetBody = {
    features?: string[];
    feature_service?: string;
    entities: Record<string, unknown[]>;
    request_data?: Record<string, unknown[]>;
    full_feature_names?: boolean;
    include_write_timestamps?: boolean;
  };
  app.post<{ Body: GetBody }>(
    '/get-online-features',
    { ...hooks('/get-online-features'), schema: { body: GET_ONLINE_FEATURES_SCHEMA } },
    async (req, reply) => {
      const b = req.body;
      for (const [k, v] of Object.entries(b.entities)) {
        if (v.length > maxEntities) {
          throw new StrataError(
            'INVALID_ARGUMENT',
            `entities.${k} has ${v.length} rows, more than the limit of ${maxEntities} per request`,
            {
              field: `entities.${k}`,
              hint: 'split the request',
            },
          );
        }
      }
      const res = await getOnlineFeatures(repo, store, {
        features: b.features,
        featureService: b.features === undefined ? b.feature_service : undefined,
        entities: b.entities,
        fullFeatureNames: b.full_feature_names ?? false,
        withWriteTime: b.include_write_timestamps === true,
        logger: featureLog,
        requestId: featureLog ? requestIdOf(req) : undefined,
        ...(b.request_data ? { requestData: b.request_data } : {}),
      });
      return reply.type('application/json; charset=utf-8').send(feastResponse(res));
    },
  );

  type PushBody = {
    push_source_name: string;
    df: Record<string, unknown[]>;
    to?: 'online' | 'offline' | 'online_and_offline';
  };
  app.post<{ Body: PushBody }>('/push', { ...hooks('/push'), schema: { body: PUSH_SCHEMA } }, async (req) => {
    const b = req.body;
    const events = dfToEvents(b.df, maxPushRows);
    if (publisher.handles(b.push_source_name)) {
      const n = await publisher.publish(b.push_source_name, events);
      return { status: 'ok', rows: events.length, views: [], written: 0, skipped: 0, published: n };
    }
    if (b.to === 'offline') {
      const updates = await repo.push(b.push_source_name, events);
      return { status: 'ok', rows: events.length, views: updates.map((u) => u.view), written: 0, skipped: 0 };
    }
    const r = await pushToOnline(repo, store, b.push_source_name, events);
    return {
      status: 'ok',
      rows: events.length,
      views: r.views.map((v) => v.view),
      written: r.written,
      skipped: r.skipped,
    };
  });

  type MatBody = { start_ts: string | number; end_ts: string | number; feature_views?: string[] };
  app.post<{ Body: MatBody }>(
    '/materialize',
    { ...hooks('/materialize'), schema: { body: MATERIALIZE_SCHEMA } },
    async (req) => {
      const start = parseTimestamp(req.body.start_ts, 'start_ts');
      const end = parseTimestamp(req.body.end_ts, 'end_ts');
      if (start > end) throw new StrataError('INVALID_ARGUMENT', 'start_ts is after end_ts', { field: 'start_ts' });
      const r = await materialize(repo, store, { start, end, views: req.body.feature_views });
      return { status: 'ok', views: r.views.map(viewResult) };
    },
  );

  app.post<{ Body: Omit<MatBody, 'start_ts'> }>(
    '/materialize-incremental',
    { ...hooks('/materialize-incremental'), schema: { body: MATERIALIZE_INCREMENTAL_SCHEMA } },
    async (req) => {
      const end = parseTimestamp(req.body.end_ts, 'end_ts');
      const r = await materializeIncremental(repo, store, { end, views: req.body.feature_views });
      return { status: 'ok', views: r.views.map(viewResult) };
    },
  );

  type SearchBody = {
    feature: string;
    query: number[];
    k?: number;
    metric?: Metric;
    filter?: Record<string, unknown>;
    features?: string[];
  };
  app.post<{ Body: SearchBody }>('/search', { ...hooks('/search'), schema: { body: SEARCH_SCHEMA } }, async (req) => {
    const b = req.body;
    const hits = await searchOnline(repo, store, {
      feature: b.feature,
      query: b.query,
      k: b.k,
      metric: b.metric,
      filter: b.filter,
      features: b.features,
    });
    return {
      results: hits.map((h) => ({
        entity: plainValue(h.entityKey),
        distance: h.distance,
        values: Object.fromEntries(Object.entries(h.values).map(([k, v]) => [k, plainValue(v)])),
        event_timestamp: isoTimestamp(h.eventTimestampMs),
      })),
    };
  });

  app.get('/health', hooks('/health', true), async (_req, reply) => {
    const h = await store.health();
    if (!h.ok) {
      metrics.storeError(store.kind);
      reply.code(503).header('retry-after', '1');
    }
    return { status: h.ok ? 'ok' : 'unavailable', store: h };
  });

  app.get('/metrics', hooks('/metrics'), async (_req, reply) => {
    const lag = (await publisher.lag()).flatMap((l) => publisher.views(l.source).map((view) => ({ view, ...l })));
    // a store that does not answer leaves the freshness gauges out (and counts as a store error)
    const freshness = await viewFreshness(repo, store).catch(() => {
      metrics.storeError(store.kind);
      return [];
    });
    // drift scores of the statistics runs in the repo dir: re-read at most every driftCacheMs
    const drift = await driftCache.read().catch((err: unknown) => {
      app.log.warn({ err }, 'reading statistics runs for drift metrics failed');
      return [];
    });
    return reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(metrics.render(store.kind, lag, freshness, drift));
  });

  // the monitoring page (docs/MONITORING.md): freshness and drift of this repo and store, at /monitor/
  const monitorSource = storeMonitorSource(repo, store, { features: () => driftFeatureMonitors(repo) });
  await mountMonitorPage(app, monitorSource, { prefix: '/monitor', routeOptions: hooks('/monitor') });

  // ---------------------------------------------------------------- lifecycle
  const { url, port } = await listenApp(app, host, options.port);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Node does not end keep-alive sockets that go idle after close() began: end them as they do.
      const idle = setInterval(() => app.server.closeIdleConnections(), 20);
      const timer = setTimeout(() => app.server.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000);
      timer.unref();
      try {
        await app.close();
        await publisher.close();
        await featureLog?.close();
      } finally {
        clearInterval(idle);
        clearTimeout(timer);
      }
    })();
    return closing;
  };
  return { url, port, metrics, app, close, [Symbol.asyncDispose]: close, ...(featureLog ? { featureLog } : {}) };
}

/** The caller's `x-request-id` header when it sends one (so logs join its own records); else a random id. */
function requestIdOf(req: FastifyRequest): string | undefined {
  const h = req.headers['x-request-id'];
  return typeof h === 'string' && h !== '' ? h : undefined;
}

function viewResult(v: {
  view: string;
  startMs: number;
  endMs: number;
  rows: number;
  written: number;
  skipped: number;
}): Record<string, unknown> {
  return {
    view: v.view,
    start_ts: isoTimestamp(v.startMs),
    end_ts: isoTimestamp(v.endMs),
    rows: v.rows,
    written: v.written,
    skipped: v.skipped,
  };
}
