/**
 * `latestValues`: per entity, what the online store should hold as of `end` — plain views: the
 * latest row with event time in [start, end]; aggregation views: the window values as of `end` for
 * every entity with an event in [start, end] (event timestamp reported = `end`).
 *
 * A source larger than the memory limit is spilled by entity hash (sources/spill.ts) and
 * `partitionedLatestBatches` runs `latestBatches` on one partition at a time: every event of an
 * entity is in one partition, so each entity's values are the in-memory run's; entities come out
 * partition by partition (by first appearance within each) instead of by first appearance in the
 * whole source.
 */
import type * as A from 'apache-arrow';
import { throwIfAborted } from '../../errors.js';
import { entityFilter, type Shard } from '../../shard.js';
import { cellValue } from '../engine/columns.js';
import { Composer, lowerBound, upperBound, type EntityRange } from '../engine/compose.js';
import type { TileStrategy } from '../engine/engine.js';
import type { ViewPlan } from '../engine/plan.js';
import { plainValue } from './retrieval.js';
import { tilesForQueries, type IndexedEvents } from '../engine/series.js';
import type { FeatureRowBatch, FeatureView, LongOptions } from '../definitions/types.js';
import type { Progress } from '../../progress.js';
import type { SpillFiles } from '../sources/spill.js';
import { aggJsValue } from '../engine/values.js';

export const LATEST_BATCH_ROWS = 10_000;

export function* latestBatches(
  view: FeatureView,
  plan: ViewPlan | null,
  idx: IndexedEvents,
  range: { startMs: number; endMs: number },
  tileStrategy: TileStrategy,
  options: LongOptions & { readonly shard?: Shard },
): Generator<FeatureRowBatch> {
  const { offsets, ts, order } = idx.sorted;
  const { startMs, endMs } = range;
  const nCodes = idx.keys.size;
  const cols = view.kind === 'plain' ? view.columns.map((c) => idx.table.getChild(c)!) : [];
  const composer = plan ? new Composer(plan) : null;
  const built = plan ? tilesForQueries(plan, idx, nCodes, tileStrategy) : null;
  // tiles are chosen for all entities (as unsharded), so a shard's values are bit-identical to those of a whole run
  const inShard = entityFilter(options.shard, idx.keys.columns);
  const r: EntityRange = { e0: 0, e1: 0, t0: 0, t1: 0 };
  let batch: { entityKeys: Record<string, unknown>[]; values: Record<string, unknown>[]; eventTimestampsMs: number[] } =
    { entityKeys: [], values: [], eventTimestampsMs: [] };
  let rows = 0;
  for (let c = 0; c < nCodes; c++) {
    const lo = offsets[c];
    const hi = offsets[c + 1];
    const first = lowerBound(ts, startMs, lo, hi);
    const end = upperBound(ts, endMs, first, hi);
    if (end <= first) continue;
    if (inShard && !inShard(idx.keys.keyOf(c))) continue;
    const values: Record<string, unknown> = {};
    if (view.kind === 'plain') {
      const p = end - 1;
      view.features.forEach((f, i) => (values[f.name] = plainValue(cellValue(cols[i], order[p]))));
      batch.eventTimestampsMs.push(ts[p]);
    } else {
      r.e0 = lo;
      r.e1 = hi;
      if (built) {
        r.t0 = built.tileOff[c];
        r.t1 = built.tileOff[c + 1];
      }
      composer!.at(idx.ev, built?.tiles ?? null, r, endMs, (ai, v) => {
        const ap = plan!.aggs[ai];
        values[ap.agg.name] = aggJsValue(ap.agg, v, idx.dicts[ap.group]);
      });
      batch.eventTimestampsMs.push(endMs);
    }
    batch.entityKeys.push(idx.keys.keyOf(c));
    batch.values.push(values);
    if (batch.entityKeys.length >= LATEST_BATCH_ROWS) {
      rows += batch.entityKeys.length;
      throwIfAborted(options.signal, `latestValues(${view.name})`);
      options.onProgress?.({ phase: view.name, done: rows, unit: 'entities' });
      yield batch;
      batch = { entityKeys: [], values: [], eventTimestampsMs: [] };
    }
  }
  if (batch.entityKeys.length) {
    rows += batch.entityKeys.length;
    options.onProgress?.({ phase: view.name, done: rows, total: rows, unit: 'entities' });
    yield batch;
  }
}

/**
 * `latestBatches` over each partition of a spilled source in turn (`index` builds a partition's
 * IndexedEvents; each is dropped before the next is read). Progress `<view>` counts entities across
 * partitions (its total is given with the last); `partitions <view>` counts partitions.
 */
export async function* partitionedLatestBatches(
  view: FeatureView,
  plan: ViewPlan | null,
  spill: SpillFiles,
  index: (table: A.Table) => Promise<IndexedEvents>,
  range: { startMs: number; endMs: number },
  tileStrategy: TileStrategy,
  options: LongOptions & { readonly shard?: Shard },
): AsyncGenerator<FeatureRowBatch> {
  const report = options.onProgress;
  let base = 0;
  let totalGiven = false;
  for (let p = 0; p < spill.count; p++) {
    throwIfAborted(options.signal, `latestValues(${view.name})`);
    const last = p === spill.count - 1;
    let done = 0;
    const onProgress = report
      ? (e: Progress) => {
          if (e.phase !== view.name) return report(e);
          done = e.done;
          if (last && e.total !== undefined) totalGiven = true;
          report({
            phase: e.phase,
            done: base + e.done,
            unit: e.unit,
            ...(last && e.total !== undefined ? { total: base + e.total } : {}),
          });
        }
      : undefined;
    const idx = await index(await spill.read(p));
    yield* latestBatches(view, plan, idx, range, tileStrategy, { ...options, ...(onProgress ? { onProgress } : {}) });
    base += done;
    report?.({ phase: `partitions ${view.name}`, done: p + 1, total: spill.count, unit: 'partitions' });
  }
  // the last partition had no entities: the total is given here
  if (!totalGiven) report?.({ phase: view.name, done: base, total: base, unit: 'entities' });
}
