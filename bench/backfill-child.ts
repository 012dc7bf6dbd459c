/**
 * Child process of the backfill-larger-than-memory figures (bench/features-backfill.ts) and of
 * test/features/spill-rss.test.ts: `node --import tsx backfill-child.ts <kind> <file> <memoryLimitBytes|default> [backfill|latest]`.
 * Backfills 1-day tiles (count/sum/min/max of `value` per `entity_id`) over the file source — or,
 * with `latest`, reads the view's `latestValues` (what materialize writes) as of after the last
 * event, lifetime windows — and prints one JSON line: events, tiles (latest: entities), the count
 * and value sums, seconds, partitions, peak RSS.
 */
import { FeatureRepo, type Progress } from '../src/features/index.js';
import { tilesRepo } from './backfill-repo.js';
import { readNumeric } from '../src/features/engine/columns.js';

const [kind, file, limitArg, job = 'backfill'] = process.argv.slice(2);
if (kind === 'idle') {
  // the modules alone: the floor the other runs are measured against
  void [FeatureRepo, readNumeric];
  process.stdout.write(`${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
  process.exit(0);
}
const memoryLimitBytes = limitArg && limitArg !== 'default' ? Number(limitArg) : undefined;
const t0 = performance.now();
const repo = await tilesRepo(kind, file, { window: job === 'latest' ? 'lifetime' : '1d', memoryLimitBytes });
let partitions = 1;
let events = 0;
const onProgress = (p: Progress) => {
  if (p.phase.startsWith('spill ') && p.unit === 'partitions') partitions = p.total ?? 1;
  if (p.phase === 'spill') events = p.done;
};
let out: { rows: number; count: number; sum: number };
if (job === 'latest') {
  // per entity, then summed in entity order (the order latestValues yields entities may differ)
  const byEntity: [number, number, number][] = [];
  for await (const b of repo.latestValues('tiles', { end: new Date(8.64e15), onProgress }))
    b.values.forEach((v, i) =>
      byEntity.push([
        Number(b.entityKeys[i].entity_id),
        Number(v.value_count_lifetime ?? 0),
        Number(v.value_sum_lifetime ?? 0),
      ]),
    );
  byEntity.sort((a, b) => a[0] - b[0]);
  out = { rows: byEntity.length, count: 0, sum: 0 };
  for (const [, count, sum] of byEntity) {
    out.count += count;
    out.sum += sum;
  }
} else {
  const tiles = await repo.backfill('tiles', { onProgress });
  const sum = (col: string) => {
    const num = readNumeric(tiles.getChild(col)!)!;
    let s = 0;
    for (let i = 0; i < num.values.length; i++) if (!num.valid || num.valid[i]) s += num.values[i];
    return s;
  };
  out = { rows: tiles.numRows, count: sum('value__count'), sum: sum('value__sum') };
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  `${JSON.stringify({
    events,
    tiles: out.rows,
    count: out.count,
    sum: out.sum,
    seconds,
    partitions,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  })}\n`,
);
