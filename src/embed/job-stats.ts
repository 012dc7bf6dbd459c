/**
 * Statistics an embedding job records as it goes: a `ColumnStatistics` (embedding kind) of the
 * vectors each run writes, stored in the output column's metadata and committed with the job's
 * rows. An unsharded run keeps it under `statistics`, a shard under `statistics:shard:<i>/<n>`
 * (shards never write the same key, so concurrent shards do not conflict); each commit merges what
 * it wrote since the last one into the stored value, so a resumed or sharded job's statistics equal
 * those of one pass over its vectors. `embeddingStatistics` reads them back, shards merged.
 */
import type { Dataset } from '../dataset/dataset.js';
import { StrataError } from '../errors.js';
import { shardLabel, type Shard } from '../shard.js';
import type { ColumnStatsJson } from '../stats/column.js';
import { ColumnStatistics } from '../stats/statistics.js';

const KEY = 'statistics';

/** Column metadata key holding a run's (or shard's) statistics. */
export function statisticsKey(shard?: Shard): string {
  return shard ? `${KEY}:shard:${shardLabel(shard)}` : KEY;
}

/** Folds `pending` into the statistics stored under the shard's key (visible at the next commit). */
export function stageStatistics(ds: Dataset, column: string, pending: ColumnStatistics, shard?: Shard): void {
  const key = statisticsKey(shard);
  // a column the job added is not committed yet: nothing stored
  const stored = ds.hasColumn(column) ? (ds.columnMeta(column)[key] as ColumnStatsJson | undefined) : undefined;
  const merged = stored ? ColumnStatistics.fromJSON(stored).merge(pending) : pending;
  ds.setColumnMeta(column, { [key]: merged.toJSON() });
}

/**
 * The statistics embedding jobs recorded for `column` (every shard's and unsharded run's, merged),
 * or undefined when no job recorded any.
 */
export function embeddingStatistics(ds: Dataset, column: string): ColumnStatistics | undefined {
  if (!ds.hasColumn(column))
    throw new StrataError('NOT_FOUND', `${ds.uri} has no column ${column}`, {
      uri: ds.uri,
      column,
      hint: `columns: ${ds.columns.join(', ')}`,
    });
  let out: ColumnStatistics | undefined;
  const meta = ds.columnMeta(column);
  for (const key of Object.keys(meta).sort()) {
    if (key !== KEY && !key.startsWith(`${KEY}:shard:`)) continue;
    const s = ColumnStatistics.fromJSON(meta[key] as ColumnStatsJson);
    out = out ? out.merge(s) : s;
  }
  return out;
}
