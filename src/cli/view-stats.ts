/**
 * `strata stats <view>` in a feature repository: the summary of the view's latest statistics run
 * (recorded by materialize and backfill), and with `--reference <run id>` its drift from that run,
 * each feature checked against the thresholds the view declares.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { StatisticsSummary } from '../stats/column.js';
import { StrataError } from '../errors.js';
import { type CommandContext, type OptionSpec, flag, str } from './command.js';
import { json, table } from './format.js';

/** `--run-id` and `--no-statistics` of the commands that record statistics runs (materialize, backfill). */
export const STATISTICS_RUN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'run-id': {
    type: 'string',
    value: 'ID',
    description:
      'statistics run id (give every shard of one run the same id so their statistics merge; default: a new id per run)',
  },
  'no-statistics': { type: 'boolean', description: 'record no per-feature statistics for this run' },
};

/** The run options those flags ask for. */
export function statisticsRunOptions(ctx: CommandContext): { runId?: string; statistics?: false } {
  const runId = str(ctx, 'run-id');
  return { ...(runId !== undefined ? { runId } : {}), ...(flag(ctx, 'no-statistics') ? { statistics: false } : {}) };
}

export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return '';
  return Number.isInteger(x) ? String(x) : x.toPrecision(6);
}

/** The summary columns `strata stats` prints for datasets and views alike. */
export const SUMMARY_HEADER = ['kind', 'count', 'nulls', 'distinct', 'min', 'p50', 'max', 'mean', 'std', 'top'];

export function summaryCells(s: StatisticsSummary): string[] {
  return [
    s.kind,
    String(s.count),
    String(s.nulls),
    fmt(s.distinct),
    fmt(s.min),
    fmt(s.quantiles?.['0.5']),
    fmt(s.max),
    fmt(s.kind === 'embedding' ? s.meanNorm : s.mean),
    fmt(s.stddev),
    (s.top ?? [])
      .slice(0, 3)
      .map((t) => `${t.value}:${t.count}`)
      .join(' '),
  ];
}

/** The repo directory when the stats target names a view (`--repo`, or a cwd with strata.yaml and no such path). */
export async function viewRepoDir(ctx: CommandContext, target: string): Promise<string | undefined> {
  const given = str(ctx, 'repo');
  if (given !== undefined) return resolve(ctx.cwd, given);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return undefined;
  const exists = await stat(resolve(ctx.cwd, target)).then(
    () => true,
    () => false,
  );
  if (exists) return undefined;
  const isRepo = await stat(resolve(ctx.cwd, 'strata.yaml')).then(
    (s) => s.isFile(),
    () => false,
  );
  return isRepo ? ctx.cwd : undefined;
}

export async function printViewStats(ctx: CommandContext, dir: string, viewName: string): Promise<void> {
  const { FeatureRepo } = await import('../features/repo.js');
  const repo = await FeatureRepo.load(dir, { signal: ctx.signal });
  try {
    const runs = await repo.statistics(viewName);
    if (runs.length === 0)
      throw new StrataError('NOT_FOUND', `feature view ${viewName} has no statistics runs in ${dir}`, {
        key: viewName,
        hint: `materialize or backfill it first: strata materialize ${dir} --start … --end …`,
      });
    const wanted = (str(ctx, 'columns') ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    const refId = str(ctx, 'reference');
    const report = refId !== undefined ? await repo.drift(viewName, { reference: refId }) : undefined;
    const run = report ? runs.find((r) => r.runId === report.run)! : runs[0];
    for (const c of wanted)
      if (!(c in run.features))
        throw new StrataError('NOT_FOUND', `statistics run ${run.runId} of ${viewName} has no feature ${c}`, {
          key: c,
          hint: `features: ${Object.keys(run.features).join(', ')}`,
        });
    const names = wanted.length ? wanted : Object.keys(run.features);
    const features = names.map((f) => ({ feature: f, summary: run.features[f].summary() }));
    const drift = report?.features.filter((f) => names.includes(f.feature));
    if (flag(ctx, 'json')) {
      ctx.out(
        json({
          view: viewName,
          run: { runId: run.runId, kind: run.kind, time: run.time, rows: run.rows, shards: run.shards },
          reference: report?.reference ?? null,
          features,
          ...(drift ? { drift, breached: drift.some((d) => d.breached) } : {}),
        }),
      );
      return;
    }
    const shards = run.shards.length ? `, shards ${run.shards.join(' ')}` : '';
    ctx.out(`${viewName}: ${run.kind} run ${run.runId} at ${run.time.toISOString()}, ${run.rows} rows${shards}`);
    ctx.out(
      table(
        ['feature', ...SUMMARY_HEADER],
        features.map((f) => [f.feature, ...summaryCells(f.summary)]),
      ),
    );
    if (drift) {
      ctx.out(`\ndrift from run ${report!.reference}:`);
      ctx.out(
        table(
          ['feature', 'psi', 'js', 'mean_shift', 'mmd2', 'thresholds', 'breached'],
          drift.map((d) => [
            d.feature,
            fmt(d.scores.psi),
            fmt(d.scores.jsDivergence),
            fmt(d.scores.meanCosineShift),
            fmt(d.scores.mmd2),
            Object.entries(d.thresholds ?? {})
              .map(([k, v]) => `${k}>${v}`)
              .join(' '),
            d.breached ? `yes (${d.breaches.join(', ')})` : 'no',
          ]),
        ),
      );
    }
  } finally {
    await repo.close();
  }
}
