import type { Command } from '../command.js';
import { UsageError, flag, requireStr, str } from '../command.js';
import { json } from '../format.js';
import { JSON_OPTION } from '../open.js';
import { REPO_POSITIONAL, loadRepo, parseTime } from '../repo.js';
import { SHARD_OPTIONS, shardOf } from '../shard.js';
import { STATISTICS_RUN_OPTIONS, statisticsRunOptions } from '../view-stats.js';

export const command: Command = {
  name: 'backfill',
  summary:
    "Computes an aggregation view's tiles (window aggregates per entity and tile) from its offline source and writes them as a Parquet file. With --shard i/n, only the entities of shard i (by a stable hash of the entity key): the n shards' files together are the unsharded tiles, row for row.",
  positionals: [REPO_POSITIONAL],
  options: {
    view: { type: 'string', value: 'NAME', description: 'aggregation feature view to backfill (required)' },
    out: {
      type: 'string',
      value: 'FILE',
      description: 'Parquet file to write (required); {shard} is replaced by i-of-n',
    },
    start: { type: 'string', value: 'TIME', description: 'keep tiles ending after this time (ISO 8601, epoch ms)' },
    end: {
      type: 'string',
      value: 'TIME',
      description: 'keep tiles starting before this time (ISO 8601, epoch ms, now)',
    },
    shard: SHARD_OPTIONS.shard,
    shards: SHARD_OPTIONS.shards,
    ...STATISTICS_RUN_OPTIONS,
    json: { ...JSON_OPTION, description: 'print the result as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  examples: [
    'strata backfill ./feature_repo --view user_activity --out tiles.parquet',
    'strata backfill ./feature_repo --view user_activity --out tiles-{shard}.parquet --shard 3/16',
  ],
  async run(ctx) {
    const view = requireStr(ctx, 'view', 'backfill');
    const outRaw = requireStr(ctx, 'out', 'backfill');
    const startRaw = str(ctx, 'start');
    const endRaw = str(ctx, 'end');
    const start = startRaw === undefined ? undefined : parseTime(startRaw, 'start', 'backfill');
    const end = endRaw === undefined ? undefined : parseTime(endRaw, 'end', 'backfill');
    if (start && end && start > end) throw new UsageError('strata backfill: --start is after --end', 'backfill');
    const shard = shardOf(ctx);
    const out = outRaw.replaceAll('{shard}', shard ? `${shard.index}-of-${shard.count}` : 'all');
    const repo = await loadRepo(ctx);
    const bar = ctx.progress('backfill', 'tiles');
    try {
      const tiles = await repo.backfill(view, {
        ...(start ? { start } : {}),
        ...(end ? { end } : {}),
        ...(shard ? { shard } : {}),
        ...statisticsRunOptions(ctx),
        signal: ctx.signal,
        onProgress: bar.onProgress,
      });
      const { writeParquetFile } = await import('../../features/sources/index.js');
      await writeParquetFile(tiles, out, ctx.signal);
      bar.done();
      const result = {
        view,
        ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
        rows: tiles.numRows,
        out,
      };
      if (flag(ctx, 'json')) ctx.out(json(result));
      else
        ctx.out(`backfilled ${tiles.numRows} tiles of ${view}${shard ? ` (shard ${result.shard})` : ''} into ${out}`);
    } catch (err) {
      bar.fail();
      throw err;
    } finally {
      await repo.close();
    }
  },
};
