/**
 * Arrow timestamps in s, ms, µs and ns (pandas writes ns) convert to the engine's ms exactly
 * (integer division), so the documented boundaries hold for every unit: an event at exactly the
 * row's time is joined, the ttl boundary is inclusive, a window excludes its left edge, the
 * materialize start is inclusive, and online event times are integers.
 */
import * as A from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../src/features/index.js';

const UNITS = [
  ['s', A.TimeUnit.SECOND, 1n],
  ['ms', A.TimeUnit.MILLISECOND, 1_000n],
  ['µs', A.TimeUnit.MICROSECOND, 1_000_000n],
  ['ns', A.TimeUnit.NANOSECOND, 1_000_000_000n],
] as const;

const HOUR = 3_600_000;

/** An Arrow timestamp vector of `unit` from ms values (whole seconds for `s`). */
function times(unit: A.TimeUnit, perS: bigint, ms: readonly number[]): A.Vector {
  const data = BigInt64Array.from(ms.map((t) => (BigInt(t) * perS) / 1000n));
  return A.makeVector(A.makeData({ type: new A.Timestamp(unit), length: ms.length, data }));
}

function table(unit: A.TimeUnit, perS: bigint, rows: { k: number; ts: number; v?: number }[]): A.Table {
  const cols: Record<string, A.Vector> = {
    k: A.vectorFromArray(
      rows.map((r) => r.k),
      new A.Int32(),
    ),
    event_timestamp: times(
      unit,
      perS,
      rows.map((r) => r.ts),
    ),
  };
  if (rows.some((r) => r.v !== undefined))
    cols.v = A.vectorFromArray(
      rows.map((r) => r.v ?? null),
      new A.Float64(),
    );
  return new A.Table(cols);
}

describe('timestamp units', () => {
  for (const [label, unit, perS] of UNITS) {
    it(`${label}: boundaries hold exactly (row time, ttl, window edge, materialize start) and event times are integer ms`, async () => {
      // a time with milliseconds (except for whole-second data)
      const t0 = Date.UTC(2024, 2, 10, 12, 34, 56) + (label === 's' ? 0 : 789);
      const step = label === 's' ? 1000 : 1;
      const events = table(unit, perS, [
        { k: 1, ts: t0 - HOUR, v: 1 },
        { k: 1, ts: t0, v: 2 },
        { k: 2, ts: t0 - 2 * HOUR, v: 5 },
      ]);
      const repo = await FeatureRepo.fromDefinitions([
        defineEntity({ name: 'ent', joinKeys: ['k'] }),
        defineSource({ name: 'ev', kind: 'table', table: events }),
        defineFeatureView({
          name: 'latest',
          entities: ['ent'],
          source: 'ev',
          ttl: '2h',
          features: ['v', 'event_timestamp'],
        }),
        defineFeatureView({
          name: 'aggs',
          entities: ['ent'],
          source: 'ev',
          tile: '10m',
          aggregations: [{ column: 'v', function: 'sum', window: '1h', name: 'v_sum_1h' }],
        }),
      ]);
      const rows = table(unit, perS, [
        { k: 1, ts: t0 }, // the event at exactly the row's time is joined; the one at t0 - 1h leaves the window
        { k: 1, ts: t0 - step }, // just before: the older event
        { k: 2, ts: t0 }, // exactly ttl after the event: still joined
        { k: 2, ts: t0 + step }, // past the ttl
      ]);
      const out = await repo.getHistoricalFeatures(rows, { features: ['latest:v', 'aggs:v_sum_1h'] }).toArray();
      expect(out.map((r) => [r.v, r.v_sum_1h])).toEqual([
        [2, 2],
        [1, 1],
        [5, null],
        [null, null],
      ]);
      expect(out.map((r) => r.event_timestamp)).toEqual([t0, t0 - step, t0, t0 + step]);
      // entity rows in ms (Dates) against events in the source's unit: the same answers
      const asDates = await repo
        .getHistoricalFeatures(
          [t0, t0 - step, t0, t0 + step].map((t, i) => ({ k: i < 2 ? 1 : 2, event_timestamp: new Date(t) })),
          { features: ['latest:v', 'aggs:v_sum_1h'] },
        )
        .toArray();
      expect(asDates.map((r) => [r.v, r.v_sum_1h])).toEqual(out.map((r) => [r.v, r.v_sum_1h]));
      // latestValues: the start is inclusive; event times (and timestamp features) are integer ms
      const got: { k: unknown; ts: number; at: unknown }[] = [];
      for await (const b of repo.latestValues('latest', { start: new Date(t0), end: new Date(t0) }))
        b.entityKeys.forEach((key, i) =>
          got.push({ k: key.k, ts: b.eventTimestampsMs[i], at: b.values[i].event_timestamp }),
        );
      expect(got).toEqual([{ k: 1, ts: t0, at: t0 }]);
      const agg: unknown[] = [];
      for await (const b of repo.latestValues('aggs', { start: new Date(t0), end: new Date(t0) }))
        agg.push(...b.values.map((v) => v.v_sum_1h));
      expect(agg).toEqual([2]);
    });
  }

  it('times before 1970 round down to the millisecond', async () => {
    const t = -1_500; // 1969-12-31T23:59:58.500Z
    const ns = BigInt(t) * 1_000_000n - 1n; // just before: rounds down to -1501 ms
    const events = new A.Table({
      k: A.vectorFromArray([1], new A.Int32()),
      event_timestamp: A.makeVector(
        A.makeData({ type: new A.Timestamp(A.TimeUnit.NANOSECOND), length: 1, data: BigInt64Array.of(ns) }),
      ),
      v: A.vectorFromArray([7], new A.Float64()),
    });
    const repo = await FeatureRepo.fromDefinitions([
      defineEntity({ name: 'ent', joinKeys: ['k'] }),
      defineSource({ name: 'ev', kind: 'table', table: events }),
      defineFeatureView({ name: 'latest', entities: ['ent'], source: 'ev', features: ['v'] }),
    ]);
    const out = await repo
      .getHistoricalFeatures(
        [
          { k: 1, event_timestamp: t - 2 },
          { k: 1, event_timestamp: t - 1 },
        ],
        { features: ['latest:v'] },
      )
      .toArray();
    expect(out.map((r) => r.v)).toEqual([null, 7]);
  });
});
