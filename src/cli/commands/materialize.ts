import type { Command } from '../command.js';
import { UsageError, flag, requireStr, str } from '../command.js';
import { json, table } from '../format.js';
import { JSON_OPTION } from '../open.js';
import { SHARD_OPTIONS, shardOf } from '../shard.js';
import { REPO_POSITIONAL, STORE_ENV_HELP, STORE_OPTIONS, loadRepo, openStore, parseTime, repoDir } from '../repo.js';
import { STATISTICS_RUN_OPTIONS, statisticsRunOptions } from '../view-stats.js';

export const command: Command = {
  name: 'materialize',
  summary:
    'Loads the latest feature values (and current window aggregates) between --start and --end from the offline sources into the online store, in batches. Idempotent: an interrupted run re-run converges to the same state; older events never overwrite newer values.',
  positionals: [REPO_POSITIONAL],
  options: {
    start: { type: 'string', value: 'TIME', description: 'start (ISO 8601, epoch ms); required unless --incremental' },
    end: { type: 'string', value: 'TIME', description: 'end (ISO 8601, epoch ms, or now); required' },
    incremental: { type: 'boolean', description: 'start where the last materialization of each view ended' },
    views: { type: 'string', value: 'A,B', description: 'only these feature views (default: all online views)' },
    ...SHARD_OPTIONS,
    ...STATISTICS_RUN_OPTIONS,
    ...STORE_OPTIONS,
    json: { ...JSON_OPTION, description: 'print the per-view result as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  notes: STORE_ENV_HELP,
  examples: [
    'strata materialize ./feature_repo --start 2024-01-01 --end 2024-01-04',
    'strata materialize --incremental --end now',
    'strata materialize ./feature_repo --start 2024-01-01 --end 2024-01-04 --shard 0/4   # entities of shard 0 of 4',
  ],
  async run(ctx) {
    const end = parseTime(requireStr(ctx, 'end', 'materialize'), 'end', 'materialize');
    const incremental = flag(ctx, 'incremental');
    const startRaw = str(ctx, 'start');
    if (!incremental && startRaw === undefined)
      throw new UsageError('strata materialize: --start is required (or pass --incremental)', 'materialize');
    const start = startRaw === undefined ? undefined : parseTime(startRaw, 'start', 'materialize');
    if (start && start > end) throw new UsageError('strata materialize: --start is after --end', 'materialize');
    const views = str(ctx, 'views')
      ?.split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    const shard = shardOf(ctx);
    const repo = await loadRepo(ctx);
    let store;
    const bar = ctx.progress('materialize', 'rows');
    try {
      store = await openStore(ctx, 'materialize', repoDir(ctx), repo.project);
      const { materialize, materializeIncremental } = await import('../../online/materialize.js');
      const common = {
        ...(views ? { views } : {}),
        ...(shard ? { shard } : {}),
        ...statisticsRunOptions(ctx),
        signal: ctx.signal,
        onProgress: bar.onProgress,
      };
      const r = start
        ? await materialize(repo, store, { start, end, ...common })
        : await materializeIncremental(repo, store, { end, ...common });
      bar.done();
      if (flag(ctx, 'json')) {
        ctx.out(
          json({
            store: store.kind,
            ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
            start: start?.toISOString() ?? null,
            end: end.toISOString(),
            views: r.views,
          }),
        );
        return;
      }
      ctx.out(
        table(
          ['view', 'from', 'to', 'rows', 'written', 'skipped'],
          r.views.map((v) => [
            v.view,
            iso(v.startMs),
            iso(v.endMs),
            String(v.rows),
            String(v.written),
            String(v.skipped),
          ]),
        ),
      );
      ctx.out(
        `materialized ${r.views.length} view${r.views.length === 1 ? '' : 's'} into the ${store.kind} online store`,
      );
    } catch (err) {
      bar.fail();
      throw err;
    } finally {
      await store?.close();
      await repo.close();
    }
  },
};

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : ms < 0 ? '-∞' : '∞';
}
