/**
 * The viewer's monitoring page: per-view freshness (watermarks, lag, SLO) and per-feature histograms
 * with the reference overlaid and drift scores, drawn as SVG in the browser. Reads everything through
 * a `MonitorSource` (src/online/monitor.ts).
 *
 *   GET /  /monitor.js  /app.css   the page (src/serve/viewer/browser/monitor.ts, built by build:viewer)
 *   GET /api/monitor               MonitorResponse (src/serve/viewer/monitor-wire.ts)
 */
import Fastify, { type FastifyInstance, type RouteShorthandOptions } from 'fastify';
import { StrataError } from '../errors.js';
import { DEFAULT_DRIFT_THRESHOLDS, type MonitorSource, isDrifted } from '../online/monitor.js';
import { listenApp } from './listen.js';
import { featureHistogram } from './monitor-histogram.js';
import { MONITOR_FILES, loadViewerFiles, type ViewerFile } from './viewer/assets.js';
import type { MonitorFeature, MonitorResponse } from './viewer/monitor-wire.js';

export interface MonitorViewerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: any free port (see `url`). */
  readonly port?: number;
  /** "Now" for the lags, epoch ms (tests). Default: the clock at each request. */
  readonly nowMs?: number;
}

export interface MonitorViewer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  /** Stops the server. Idempotent; does not close the source's store. */
  close(): Promise<void>;
}

/** Everything the page shows, as JSON. */
export async function monitorReport(
  source: MonitorSource,
  options: { readonly nowMs?: number; readonly signal?: AbortSignal } = {},
): Promise<MonitorResponse> {
  const nowMs = options.nowMs ?? Date.now();
  const views = await source.freshness({ nowMs });
  const monitors = source.features
    ? await source.features({ ...(options.signal ? { signal: options.signal } : {}) })
    : [];
  const features = monitors.map((m): MonitorFeature => {
    const drift = m.drift ?? (m.reference ? m.current.driftFrom(m.reference) : undefined);
    const thresholds = { ...DEFAULT_DRIFT_THRESHOLDS, ...m.thresholds };
    const cur = m.current.summary({ top: 0 });
    return {
      view: m.view,
      feature: m.feature,
      kind: m.current.kind,
      count: cur.count,
      referenceCount: m.reference ? m.reference.summary({ top: 0 }).count : null,
      referenceName: m.referenceName ?? null,
      histogram: featureHistogram(m.current, m.reference),
      drift: drift ?? null,
      thresholds,
      drifted: isDrifted(drift, thresholds),
    };
  });
  return { nowMs, views: [...views], features };
}

export interface MonitorRoutesOptions {
  /** URL prefix of the page, e.g. `/monitor` (the page is then `/monitor/`). Default: the root. */
  readonly prefix?: string;
  /** "Now" for the lags, epoch ms (tests). Default: the clock at each request. */
  readonly nowMs?: number;
  /** Route options of every route (e.g. the feature server's auth and metrics hooks). */
  readonly routeOptions?: RouteShorthandOptions;
}

/**
 * Adds the page's routes to `app`: `<prefix>/` (the page, which loads its files and data by relative
 * URLs), `<prefix>/monitor.js`, `<prefix>/app.css` and `<prefix>/api/monitor`; with a prefix, GET
 * `<prefix>` redirects to `<prefix>/`. When the page is not built its files answer NOT_FOUND naming
 * what to run; the data endpoint works regardless.
 */
export async function mountMonitorPage(
  app: FastifyInstance,
  source: MonitorSource,
  options: MonitorRoutesOptions = {},
): Promise<void> {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const ro = options.routeOptions ?? {};
  let files: readonly ViewerFile[];
  let missing: StrataError | undefined;
  try {
    files = await loadViewerFiles(undefined, MONITOR_FILES);
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    missing = err;
    files = MONITOR_FILES.map((f) => ({ ...f, body: '' }));
  }
  for (const f of files) {
    app.get(prefix + f.path, ro, (_req, reply) => {
      if (missing) throw missing;
      return reply.type(f.type).header('cache-control', 'no-store').send(f.body);
    });
  }
  if (prefix) app.get(prefix, ro, (_req, reply) => reply.redirect(`${prefix}/`));
  else app.get('/favicon.ico', ro, (_req, reply) => reply.code(204).send());
  const nowMs = options.nowMs;
  app.get(`${prefix}/api/monitor`, ro, () => monitorReport(source, nowMs === undefined ? {} : { nowMs }));
}

/** Serves the monitoring page of `source` on its own port. */
export async function startMonitorViewer(
  source: MonitorSource,
  options: MonitorViewerOptions = {},
): Promise<MonitorViewer> {
  const app = Fastify({ logger: false });
  app.setErrorHandler((err, _req, reply) => {
    const code = err instanceof StrataError ? err.code : 'INTERNAL';
    const status =
      code === 'UNAVAILABLE' || code === 'IO' ? 503 : code === 'INTERNAL' ? 500 : code === 'NOT_FOUND' ? 404 : 400;
    return reply
      .code(status)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ error: { code, message: (err as Error).message } }));
  });
  await mountMonitorPage(app, source, options.nowMs === undefined ? {} : { nowMs: options.nowMs });
  const { url, port, close } = await listenApp(app, options.host ?? '127.0.0.1', options.port);
  return { url, port, app, close, [Symbol.asyncDispose]: close };
}
