/**
 * Prometheus metrics of the feature server, rendered in the text exposition format (0.0.4):
 * request counts by route, method and status; a latency histogram by route; store errors by kind;
 * per-view freshness of the online store (lag, watermarks, SLO); per-feature drift scores against
 * each view's reference statistics run.
 */
import type { ViewDriftStatus } from '../online/drift-monitor.js';
import type { ViewFreshness } from '../online/freshness.js';
import { DRIFT_METRICS, scoreOf, type DriftMetric } from '../features/index.js';

/** Histogram bucket upper bounds, seconds. */
export const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

interface Histogram {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class ServerMetrics {
  readonly #requests = new Map<string, { route: string; method: string; status: number; n: number }>();
  readonly #latency = new Map<string, Histogram>();
  readonly #storeErrors = new Map<string, number>();
  readonly #started = Date.now();

  /** Records one finished request; `durationMs` from arrival to response sent. */
  observe(route: string, method: string, status: number, durationMs: number): void {
    const key = `${method} ${route} ${status}`;
    const c = this.#requests.get(key);
    if (c) c.n++;
    else this.#requests.set(key, { route, method, status, n: 1 });
    let h = this.#latency.get(route);
    if (!h) {
      h = { buckets: new Float64Array(LATENCY_BUCKETS_S.length), sum: 0, count: 0 };
      this.#latency.set(route, h);
    }
    const s = durationMs / 1000;
    h.sum += s;
    h.count++;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
      if (s <= LATENCY_BUCKETS_S[i]) {
        h.buckets[i]++;
        break;
      }
    }
  }

  /** Counts a failed store operation (`kind`: sqlite, redis, …). */
  storeError(kind: string): void {
    this.#storeErrors.set(kind, (this.#storeErrors.get(kind) ?? 0) + 1);
  }

  /** Total requests recorded for a route (all statuses), for tests and logs. */
  requestCount(route: string, status?: number): number {
    let n = 0;
    for (const c of this.#requests.values())
      if (c.route === route && (status === undefined || c.status === status)) n += c.n;
    return n;
  }

  /**
   * `streamLag`: per view over a `kind: stream` source, events published but not yet applied by the
   * stream consumers and the age in seconds of the newest applied event while any are pending.
   */
  render(
    storeKind: string,
    streamLag: readonly { view: string; source: string; events: number; seconds: number }[] = [],
    freshness: readonly ViewFreshness[] = [],
    drift: readonly ViewDriftStatus[] = [],
  ): string {
    const out: string[] = [];
    out.push('# HELP strata_http_requests_total HTTP requests by route, method and status code.');
    out.push('# TYPE strata_http_requests_total counter');
    for (const c of this.#requests.values()) {
      out.push(`strata_http_requests_total{route="${esc(c.route)}",method="${c.method}",status="${c.status}"} ${c.n}`);
    }
    out.push('# HELP strata_http_request_duration_seconds Time from request arrival to response, by route.');
    out.push('# TYPE strata_http_request_duration_seconds histogram');
    for (const [route, h] of this.#latency) {
      const r = esc(route);
      let cum = 0;
      LATENCY_BUCKETS_S.forEach((le, i) => {
        cum += h.buckets[i];
        out.push(`strata_http_request_duration_seconds_bucket{route="${r}",le="${le}"} ${cum}`);
      });
      out.push(`strata_http_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${h.count}`);
      out.push(`strata_http_request_duration_seconds_sum{route="${r}"} ${h.sum}`);
      out.push(`strata_http_request_duration_seconds_count{route="${r}"} ${h.count}`);
    }
    out.push('# HELP strata_online_store_errors_total Failed online store operations (store down, I/O errors).');
    out.push('# TYPE strata_online_store_errors_total counter');
    if (!this.#storeErrors.has(storeKind)) out.push(`strata_online_store_errors_total{store="${esc(storeKind)}"} 0`);
    for (const [kind, n] of this.#storeErrors) out.push(`strata_online_store_errors_total{store="${esc(kind)}"} ${n}`);
    if (streamLag.length) {
      out.push('# HELP strata_stream_lag_events Events on the stream not yet applied by its consumers, by view.');
      out.push('# TYPE strata_stream_lag_events gauge');
      for (const l of streamLag)
        out.push(`strata_stream_lag_events{view="${esc(l.view)}",source="${esc(l.source)}"} ${l.events}`);
      out.push(
        '# HELP strata_stream_lag_seconds Age of the newest applied event while events are pending (0 when caught up).',
      );
      out.push('# TYPE strata_stream_lag_seconds gauge');
      for (const l of streamLag)
        out.push(`strata_stream_lag_seconds{view="${esc(l.view)}",source="${esc(l.source)}"} ${l.seconds}`);
    }
    if (freshness.length) renderFreshness(out, freshness);
    renderDrift(out, drift);
    out.push('# HELP strata_process_uptime_seconds Seconds since the server started.');
    out.push('# TYPE strata_process_uptime_seconds gauge');
    out.push(`strata_process_uptime_seconds ${(Date.now() - this.#started) / 1000}`);
    return out.join('\n') + '\n';
  }
}

/** Gauges per online view; a view with nothing online has no lag or watermark samples. */
function renderFreshness(out: string[], rows: readonly ViewFreshness[]): void {
  const gauge = (name: string, help: string, value: (r: ViewFreshness) => number | null) => {
    const samples = rows.flatMap((r) => {
      const v = value(r);
      return v === null ? [] : [`${name}{view="${esc(r.view)}"} ${v}`];
    });
    if (!samples.length) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples);
  };
  const s = (ms: number | null) => (ms === null ? null : ms / 1000);
  gauge('strata_feature_freshness_seconds', 'Now minus the newest event time in the online store, by view.', (r) =>
    s(r.lagMs),
  );
  gauge(
    'strata_feature_event_watermark_seconds',
    'Newest event time in the online store, Unix seconds, by view.',
    (r) => s(r.eventWatermarkMs),
  );
  gauge('strata_feature_write_watermark_seconds', 'Latest write to the online store, Unix seconds, by view.', (r) =>
    s(r.writeWatermarkMs),
  );
  gauge('strata_feature_freshness_slo_seconds', 'Declared freshness SLO (freshness: in the repo), by view.', (r) =>
    s(r.sloMs),
  );
  gauge(
    'strata_feature_freshness_slo_breached',
    '1 when the view is older than its freshness SLO (or has an SLO and nothing online), else 0.',
    (r) => (r.sloMs === null ? null : r.status === 'breached' ? 1 : 0),
  );
}

/** Metric label values as written in the repo's YAML (`mean_shift`). */
const METRIC_LABEL: Record<DriftMetric, string> = { psi: 'psi', js: 'js', meanShift: 'mean_shift', mmd2: 'mmd2' };

/** Scores and breach flags per feature of the views with a current run and a reference. */
function renderDrift(out: string[], views: readonly ViewDriftStatus[]): void {
  const scores: string[] = [];
  const breached: string[] = [];
  for (const v of views) {
    if (v.status !== 'ok' && v.status !== 'drifted') continue;
    for (const f of v.features) {
      const labels = `view="${esc(v.view)}",feature="${esc(f.feature)}"`;
      for (const m of DRIFT_METRICS) {
        const s = scoreOf(f.scores, m);
        if (typeof s === 'number' && Number.isFinite(s))
          scores.push(`strata_feature_drift{${labels},metric="${METRIC_LABEL[m]}"} ${s}`);
      }
      breached.push(`strata_feature_drift_breached{${labels}} ${f.breached ? 1 : 0}`);
    }
  }
  if (scores.length)
    out.push(
      '# HELP strata_feature_drift Drift score of the latest statistics run against the reference run, by view, feature and metric.',
      '# TYPE strata_feature_drift gauge',
      ...scores,
    );
  if (breached.length)
    out.push(
      '# HELP strata_feature_drift_breached 1 when a drift score of the feature is above its limit, else 0.',
      '# TYPE strata_feature_drift_breached gauge',
      ...breached,
    );
}
