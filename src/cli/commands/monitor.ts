import type { ViewDriftStatus } from '../../online/drift-monitor.js';
import type { ViewFreshness } from '../../online/freshness.js';
import type { Command } from '../command.js';
import { PORT_NUMBER, UsageError, flag, int, str } from '../command.js';
import { json, table } from '../format.js';
import { JSON_OPTION } from '../open.js';
import { REPO_POSITIONAL, STORE_ENV_HELP, STORE_OPTIONS, loadRepo, openStore, parseTime, repoDir } from '../repo.js';

/** Exit code when a view is older than its declared `freshness` SLO (0: all within, 1: error, 2: usage). */
export const SLO_BREACHED_EXIT_CODE = 3;
/** Exit code when a feature's drift is above its limit and no freshness SLO is breached (3 wins). */
export const DRIFT_BREACHED_EXIT_CODE = 4;

/** `42s`, `15m`, `3.2h`, `4.1d`; `-` for unknown. */
export function humanDuration(ms: number | null): string {
  if (ms === null) return '-';
  const s = ms / 1000;
  const a = Math.abs(s);
  if (a < 60) return `${s.toFixed(a < 10 ? 1 : 0)}s`;
  if (a < 3600) return `${(s / 60).toFixed(a < 600 ? 1 : 0)}m`;
  if (a < 86400) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(1)}d`;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export const command: Command = {
  name: 'monitor',
  summary: `Freshness of the online store per view: the newest event time and the latest write time (kept at write time), the lag behind now and the view's declared \`freshness\` SLO; and the drift of each view's latest statistics run from its reference run. Exits ${SLO_BREACHED_EXIT_CODE} when a view is older than its SLO (or has one and nothing online), ${DRIFT_BREACHED_EXIT_CODE} when only drift is above a limit, so cron or CI can alert on it.`,
  positionals: [REPO_POSITIONAL],
  options: {
    views: { type: 'string', value: 'A,B', description: 'only these feature views (default: all online views)' },
    now: {
      type: 'string',
      value: 'TIME',
      description: 'measure lags against this time (ISO 8601 or epoch ms; default: the clock)',
    },
    reference: {
      type: 'string',
      value: 'RUN',
      description:
        "statistics run id to measure drift from, for every view (default: the view's monitoring.reference, else its latest training run, else no drift check)",
    },
    serve: { type: 'boolean', description: 'serve the monitoring page (freshness and feature charts) until Ctrl-C' },
    port: {
      type: 'string',
      value: 'N',
      number: PORT_NUMBER,
      description: 'with --serve: port to listen on (default 0: any free port)',
    },
    ...STORE_OPTIONS,
    json: { ...JSON_OPTION, description: 'print the per-view freshness as JSON' },
  },
  notes: [
    `Exit codes: 0 every view with an SLO is within it and no drift is above its limit, ${SLO_BREACHED_EXIT_CODE} a freshness SLO is breached (whatever the drift), ${DRIFT_BREACHED_EXIT_CODE} a feature drifted above its limit (and no SLO is breached), 1 error, 2 usage.`,
    "Drift limits: the view's monitoring.drift thresholds over the defaults psi 0.25, js 0.1, mean_shift 0.1, mmd2 0.1.",
    'Declare an SLO per view in the repo: `freshness: 15m` (see docs/MONITORING.md).',
    ...STORE_ENV_HELP,
  ],
  examples: [
    'strata monitor ./feature_repo',
    'strata monitor ./feature_repo --json || alert "feature freshness SLO breached"',
    'strata monitor ./feature_repo --reference train-2026-12   # drift from a training run',
    'strata monitor ./feature_repo --serve --port 8090   # then open http://127.0.0.1:8090',
  ],
  async run(ctx) {
    const nowRaw = str(ctx, 'now');
    const nowMs = nowRaw === undefined ? undefined : parseTime(nowRaw, 'now', 'monitor').getTime();
    const views = str(ctx, 'views')
      ?.split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    const repo = await loadRepo(ctx);
    const store = await openStore(ctx, 'monitor', repoDir(ctx), repo.project);
    try {
      const { viewFreshness } = await import('../../online/freshness.js');
      const { viewDriftStatus, driftFeatureMonitors } = await import('../../online/drift-monitor.js');
      const reference = str(ctx, 'reference');
      const driftOptions = { ...(reference === undefined ? {} : { reference }), ...(views ? { views } : {}) };
      if (views) {
        const known = new Set(repo.views.map((v) => v.name));
        for (const v of views)
          if (!known.has(v))
            throw new UsageError(`strata monitor: no feature view ${v} (views: ${[...known].join(', ')})`, 'monitor');
      }
      if (flag(ctx, 'serve')) {
        const { storeMonitorSource } = await import('../../online/monitor.js');
        const { startMonitorViewer } = await import('../../serve/monitor-page.js');
        const page = await startMonitorViewer(
          storeMonitorSource(repo, store, { features: () => driftFeatureMonitors(repo, driftOptions) }),
          {
            port: int(ctx, 'port', 'monitor', 0, 0),
            ...(nowMs === undefined ? {} : { nowMs }),
          },
        );
        ctx.out(`monitor: ${page.url}/  (Ctrl-C to stop)`);
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await page.close();
        return 0;
      }
      const rows: ViewFreshness[] = await viewFreshness(repo, store, {
        ...(nowMs === undefined ? {} : { nowMs }),
        ...(views ? { views } : {}),
      });
      const breached = rows.filter((r) => r.status === 'breached');
      const drift = await viewDriftStatus(repo, driftOptions);
      const drifted = drift.flatMap((v) => v.features.filter((f) => f.breached).map((f) => `${v.view}:${f.feature}`));
      if (flag(ctx, 'json')) {
        ctx.out(
          json({
            store: store.kind,
            now: new Date(nowMs ?? Date.now()).toISOString(),
            breached: breached.map((r) => r.view),
            drifted,
            views: rows.map((r) => ({
              ...r,
              eventWatermark: r.eventWatermarkMs === null ? null : iso(r.eventWatermarkMs),
              writeWatermark: r.writeWatermarkMs === null ? null : iso(r.writeWatermarkMs),
            })),
            drift,
          }),
        );
      } else {
        ctx.out(
          table(
            ['view', 'event watermark', 'write watermark', 'lag', 'slo', 'status'],
            rows.map((r) => [
              r.view,
              iso(r.eventWatermarkMs),
              iso(r.writeWatermarkMs),
              humanDuration(r.lagMs),
              humanDuration(r.sloMs),
              r.status,
            ]),
          ),
        );
        const checked = drift.filter((v) => v.status === 'ok' || v.status === 'drifted');
        if (checked.length) ctx.out('\n' + driftTable(checked));
        for (const v of drift)
          if (v.note && (reference !== undefined || v.status === 'unreadable'))
            ctx.out(`${v.view}: drift not checked: ${v.note}`);
        if (breached.length)
          ctx.err(`strata monitor: freshness SLO breached: ${breached.map((r) => r.view).join(', ')}`);
        if (drifted.length) ctx.err(`strata monitor: drift above its limit: ${drifted.join(', ')}`);
      }
      return breached.length ? SLO_BREACHED_EXIT_CODE : drifted.length ? DRIFT_BREACHED_EXIT_CODE : 0;
    } finally {
      await store.close();
    }
  },
};

const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '-');

/** One row per feature of the checked views: scores, the breached metrics, the runs compared. */
function driftTable(views: readonly ViewDriftStatus[]): string {
  return table(
    ['view', 'feature', 'psi', 'js', 'mean_shift', 'mmd2', 'status', 'run', 'reference'],
    views.flatMap((v) =>
      v.features.map((f) => [
        v.view,
        f.feature,
        num(f.scores.psi),
        num(f.scores.jsDivergence),
        num(f.scores.meanCosineShift),
        num(f.scores.mmd2),
        f.breached ? `drifted (${f.breaches.map((m) => (m === 'meanShift' ? 'mean_shift' : m)).join(', ')})` : 'ok',
        v.run ?? '-',
        `${v.reference ?? '-'} (${v.referenceSource ?? '-'})`,
      ]),
    ),
  );
}
