/**
 * The viewer's monitoring page: per-view freshness (watermarks, lag, SLO) and per-feature histograms
 * with the reference overlaid and drift scores, drawn as SVG in the browser. Reads everything through
 * a `MonitorSource` (src/online/monitor.ts).
 *
 *   GET /  /monitor.js  /app.css   the page (src/serve/viewer/browser/monitor.ts, built by build:viewer)
 *   GET /api/monitor               MonitorResponse (src/serve/viewer/monitor-wire.ts)
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { StrataError } from '../errors.js';
import { DEFAULT_DRIFT_THRESHOLDS, type MonitorSource, isDrifted } from '../online/monitor.js';
import { featureHistogram } from './monitor-histogram.js';
import { MONITOR_FILES, loadViewerFiles } from './viewer/assets.js';
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

/** Serves the monitoring page of `source` on its own port. */
export async function startMonitorViewer(
  source: MonitorSource,
  options: MonitorViewerOptions = {},
): Promise<MonitorViewer> {
  const host = options.host ?? '127.0.0.1';
  const files = await loadViewerFiles(undefined, MONITOR_FILES);
  const app = Fastify({ logger: false });
  app.setErrorHandler((err, _req, reply) => {
    const code = err instanceof StrataError ? err.code : 'INTERNAL';
    const status = code === 'UNAVAILABLE' || code === 'IO' ? 503 : code === 'INTERNAL' ? 500 : 400;
    return reply
      .code(status)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ error: { code, message: (err as Error).message } }));
  });
  for (const f of files)
    app.get(f.path, (_req, reply) => reply.type(f.type).header('cache-control', 'no-store').send(f.body));
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());
  app.get('/api/monitor', () => monitorReport(source, options.nowMs === undefined ? {} : { nowMs: options.nowMs }));
  await app.listen({ host, port: options.port ?? 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= app.close());
  return { url, port, app, close, [Symbol.asyncDispose]: close };
}
