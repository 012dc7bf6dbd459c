/**
 * Child process of the backfill-larger-than-memory figures (bench/features-backfill.ts) and of
 * test/features/spill-rss.test.ts: `node --import tsx backfill-child.ts <kind> <file> <memoryLimitBytes|default>`.
 * Backfills 1-day tiles (count/sum/min/max of `value` per `entity_id`) over the file source and
 * prints one JSON line: events, tiles, the tiles' count and value sums, seconds, partitions, peak RSS.
 */
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../src/features/index.js';
import { readNumeric } from '../src/features/engine/columns.js';

const [kind, file, limitArg] = process.argv.slice(2);
if (kind === 'idle') {
  // the modules alone: the floor the other runs are measured against
  void [FeatureRepo, readNumeric];
  process.stdout.write(`${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
  process.exit(0);
}
const memoryLimitBytes = limitArg && limitArg !== 'default' ? Number(limitArg) : undefined;
const t0 = performance.now();
const repo = await FeatureRepo.fromDefinitions(
  [
    defineEntity({ name: 'entity', joinKeys: ['entity_id'] }),
    defineSource({
      name: 'events',
      kind,
      path: file,
      ...(kind === 'csv' ? { schema: { entity_id: 'int32', event_timestamp: 'timestamp', value: 'float64' } } : {}),
    }),
    defineFeatureView({
      name: 'tiles',
      entities: ['entity'],
      source: 'events',
      tile: '1d',
      aggregations: (['count', 'sum', 'min', 'max'] as const).map((f) => ({
        column: 'value',
        function: f,
        window: '1d',
      })),
    }),
  ],
  memoryLimitBytes ? { memoryLimitBytes } : {},
);
let partitions = 1;
let events = 0;
const tiles = await repo.backfill('tiles', {
  onProgress: (p) => {
    if (p.phase.startsWith('spill ') && p.unit === 'partitions') partitions = p.total ?? 1;
    if (p.phase === 'spill') events = p.done;
  },
});
const seconds = (performance.now() - t0) / 1000;
const sum = (col: string) => {
  const num = readNumeric(tiles.getChild(col)!)!;
  let s = 0;
  for (let i = 0; i < num.values.length; i++) if (!num.valid || num.valid[i]) s += num.values[i];
  return s;
};
process.stdout.write(
  `${JSON.stringify({
    events,
    tiles: tiles.numRows,
    count: sum('value__count'),
    sum: sum('value__sum'),
    seconds,
    partitions,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  })}\n`,
);
