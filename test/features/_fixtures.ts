/** Builds engine inputs (Arrow tables, repos) from the oracle's random data. */
import type * as A from 'apache-arrow';
import { tableFromRecords } from '../../src/features/engine/build.js';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureView,
  defineSource,
  type AggregationDef,
  type Duration,
  type EngineOptions,
} from '../../src/features/index.js';
import type { Event, Row } from './_oracle.js';

export function eventsTable(events: readonly Event[], stringKeys = false): A.Table {
  return tableFromRecords(
    events.map((e) => ({ k: e.k, event_timestamp: e.ts, cr: e.cr, v: e.v, s: e.s, rid: e.rid })),
    {
      dtypes: {
        k: stringKeys ? 'string' : 'int64',
        event_timestamp: 'timestamp',
        cr: 'timestamp',
        v: 'float64',
        s: 'string',
        rid: 'int64',
      },
    },
  );
}

export function rowsTable(rows: readonly Row[], stringKeys = false): A.Table {
  return tableFromRecords(
    rows.map((r) => ({ qid: r.qid, k: r.qk, event_timestamp: r.qts })),
    { dtypes: { qid: 'int64', k: stringKeys ? 'string' : 'int64', event_timestamp: 'timestamp' } },
  );
}

export async function aggRepo(
  table: A.Table,
  aggs: readonly AggregationDef[],
  tile?: Duration,
  engine: EngineOptions = {},
): Promise<FeatureRepo> {
  return FeatureRepo.fromDefinitions(
    [
      defineEntity({ name: 'ent', joinKeys: ['k'] }),
      defineSource({ name: 'ev', kind: 'table', table, createdTimestampField: 'cr', idField: undefined }),
      defineFeatureView({
        name: 'aggs',
        entities: ['ent'],
        source: 'ev',
        aggregations: aggs,
        ...(tile ? { tile } : {}),
      }),
    ],
    { engine },
  );
}

export async function plainRepo(table: A.Table, ttl?: Duration, engine: EngineOptions = {}): Promise<FeatureRepo> {
  return FeatureRepo.fromDefinitions(
    [
      defineEntity({ name: 'ent', joinKeys: ['k'] }),
      defineSource({ name: 'ev', kind: 'table', table, createdTimestampField: 'cr' }),
      defineFeatureView({
        name: 'plain',
        entities: ['ent'],
        source: 'ev',
        features: ['v', 's'],
        ...(ttl ? { ttl } : {}),
      }),
    ],
    { engine },
  );
}

/** Aggregations covering every function and window kind, with filters. */
export const ALL_AGGS: AggregationDef[] = [
  { function: 'count', window: '1h' },
  { column: 'v', function: 'count', window: '45m' },
  { column: 'v', function: 'sum', window: '1h' },
  { column: 'v', function: 'mean', window: '2h' },
  { column: 'v', function: 'min', window: '1h' },
  { column: 'v', function: 'max', window: '90m' },
  { column: 'v', function: 'stddev', window: '3h' },
  { column: 'v', function: 'first', window: '1h' },
  { column: 'v', function: 'last', window: '1h' },
  { column: 's', function: 'last', window: '2h', name: 's_last' },
  { column: 'v', function: 'last_n', n: 3, window: '2h' },
  { column: 's', function: 'last_n', n: 2, window: '1d', name: 's_last2' },
  { column: 's', function: 'count_distinct', window: '6h' },
  { column: 'v', function: 'count_distinct', window: 'lifetime', name: 'v_distinct_life' },
  { column: 'v', function: 'sum', window: '2h', hop: '30m' },
  { column: 'v', function: 'max', window: '1h', hop: '15m' },
  { column: 'v', function: 'count', window: '1d', windowKind: 'tumbling' },
  { column: 'v', function: 'sum', window: '6h', windowKind: 'tumbling' },
  { column: 'v', function: 'sum', window: 'lifetime' },
  { column: 'v', function: 'min', window: 'lifetime' },
  { column: 'v', function: 'first', window: 'lifetime', name: 'v_first_life' },
  { column: 'v', function: 'sum', window: '1h', where: 'v > 0.5', name: 'v_sum_pos' },
  { function: 'count', window: '2h', where: "s = 'a' OR s IS NULL", name: 'n_a_or_null' },
  { column: 'v', function: 'mean', window: '12h', where: "s IN ('b', 'c') AND NOT v < 0", name: 'v_mean_bc' },
];

export function aggName(a: AggregationDef, view: { aggregations: readonly { name: string }[] }, i: number): string {
  return a.name ?? view.aggregations[i].name;
}
