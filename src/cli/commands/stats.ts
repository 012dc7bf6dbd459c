import type { StatisticsSummary } from '../../stats/column.js';
import type { DriftScores } from '../../stats/drift.js';
import type { Command } from '../command.js';
import { UsageError, flag, str } from '../command.js';
import { json, table } from '../format.js';
import { JSON_OPTION, VERSION_OPTION, openDataset } from '../open.js';
import { SUMMARY_HEADER, fmt, printViewStats, summaryCells, viewRepoDir } from '../view-stats.js';

export const command: Command = {
  name: 'stats',
  summary:
    "Statistics of dataset columns (count, nulls, distinct, min/max/mean/std, quantiles, top values; embeddings: norms) and, with --reference, their drift from another version or tag (PSI, Jensen–Shannon; embeddings: mean shift, MMD²). In a feature repository, `strata stats <view>` prints the view's latest recorded run (materialize, backfill) and, with --reference <run id>, its drift checked against the view's thresholds.",
  positionals: [{ name: 'uri', description: 'dataset URI, or a feature view name in a feature repository' }],
  options: {
    columns: {
      type: 'string',
      short: 'c',
      value: 'A,B',
      description: 'only these columns (default: every column that has statistics)',
    },
    reference: {
      type: 'string',
      value: 'VERSION|TAG|RUN',
      description: 'compare with this version number or tag of the dataset (views: this statistics run id)',
    },
    repo: {
      type: 'string',
      value: 'DIR',
      description: 'feature repository holding the view (default: . when it has strata.yaml)',
    },
    json: JSON_OPTION,
    version: VERSION_OPTION,
  },
  examples: [
    'strata stats ./photos.strata --columns width,label',
    'strata stats ./photos.strata -c clip --reference train-2026-11',
    'strata stats driver_hourly --repo ./feature_repo --reference 20261201T000000000Z-a1b2c3',
  ],
  async run(ctx) {
    const repoDir = await viewRepoDir(ctx, ctx.positionals[0]);
    if (repoDir !== undefined) return printViewStats(ctx, repoDir, ctx.positionals[0]);
    const ds = await openDataset(ctx, ctx.positionals[0], 'stats');
    const refName = str(ctx, 'reference');
    const ref =
      refName === undefined
        ? undefined
        : /^\d+$/.test(refName)
          ? await ds.checkout(Number(refName), { signal: ctx.signal })
          : await (await import('../../dataset/dataset.js')).Dataset.open(ds.uri, { tag: refName, signal: ctx.signal });
    try {
      const wanted = (str(ctx, 'columns') ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const columns = wanted.length > 0 ? wanted : ds.columns;
      for (const c of wanted)
        if (!ds.columns.includes(c))
          throw new UsageError(
            `strata stats: ${ds.uri} has no column ${c} (columns: ${ds.columns.join(', ')})`,
            'stats',
          );
      const rows: { column: string; summary: StatisticsSummary; drift?: DriftScores }[] = [];
      for (const column of columns) {
        const stats = await ds.statistics(column, { signal: ctx.signal }).catch((e: unknown) => {
          if (wanted.length === 0 && (e as { code?: string }).code === 'INVALID_ARGUMENT') return undefined;
          throw e;
        });
        if (!stats) continue;
        const drift = ref ? stats.driftFrom(await ref.statistics(column, { signal: ctx.signal })) : undefined;
        rows.push({ column, summary: stats.summary(), ...(drift ? { drift } : {}) });
      }
      if (flag(ctx, 'json')) {
        ctx.out(json({ uri: ds.uri, version: ds.version, reference: ref?.version ?? null, columns: rows }));
        return;
      }
      ctx.out(
        table(
          ['column', ...SUMMARY_HEADER],
          rows.map(({ column, summary: s }) => [column, ...summaryCells(s)]),
        ),
      );
      if (ref) {
        ctx.out(`\ndrift from version ${ref.version}:`);
        ctx.out(
          table(
            ['column', 'psi', 'js', 'mean_shift', 'mmd2'],
            rows.map(({ column, drift }) => {
              return [column, fmt(drift?.psi), fmt(drift?.jsDivergence), fmt(drift?.meanCosineShift), fmt(drift?.mmd2)];
            }),
          ),
        );
      }
    } finally {
      await ref?.close();
      await ds.close();
    }
  },
};
