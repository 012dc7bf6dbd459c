/**
 * The repo of the backfill-larger-than-memory figures (bench/backfill-child.ts,
 * bench/backfill-breakdown.ts): an `events` file source (`entity_id`, `event_timestamp`, `value`, as
 * datasets/events.ts writes them) and the `tiles` view: count/sum/min/max of `value` per entity in
 * 1-day tiles, over 1-day windows (or lifetime windows, what materialize reads).
 */
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../src/features/index.js';

export function tilesRepo(
  kind: string,
  file: string,
  options: { readonly window?: '1d' | 'lifetime'; readonly memoryLimitBytes?: number } = {},
): Promise<FeatureRepo> {
  return FeatureRepo.fromDefinitions(
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
          window: options.window ?? '1d',
        })),
      }),
    ],
    options.memoryLimitBytes ? { memoryLimitBytes: options.memoryLimitBytes } : {},
  );
}
