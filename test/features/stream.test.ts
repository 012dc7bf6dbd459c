/**
 * Streaming: push() updates the same tiles as the batch backfill. Property: for random event streams
 * (out of order within the allowed lateness, late events, duplicate ids, duplicate times), the values
 * push() returns are identical — bit for bit — to a batch computation over the accepted events.
 */
import { describe, expect, it } from 'vitest';
import { setTileStrategy } from '../../src/features/series.js';
import { setPruneEvery } from '../../src/features/stream.js';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureView,
  defineSource,
  type AggregationDef,
} from '../../src/features/index.js';
import { ALL_AGGS, eventsTable } from './_fixtures.js';
import { HOUR, generate, rng, type Event } from './_oracle.js';

const SCHEMA = {
  k: 'int64',
  event_timestamp: 'timestamp',
  cr: 'timestamp',
  v: 'float64',
  s: 'string',
  rid: 'int64',
  eid: 'string',
} as const;

async function pushRepo(aggs: readonly AggregationDef[], latenessMs: number, tile?: string) {
  return FeatureRepo.fromDefinitions([
    defineEntity({ name: 'ent', joinKeys: ['k'] }),
    defineSource({
      name: 'stream',
      kind: 'push',
      schema: SCHEMA,
      createdTimestampField: 'cr',
      idField: 'eid',
      allowedLateness: latenessMs,
    }),
    defineFeatureView({
      name: 'aggs',
      entities: ['ent'],
      source: 'stream',
      aggregations: aggs,
      ...(tile ? { tile } : {}),
    }),
    defineFeatureView({ name: 'plain', entities: ['ent'], source: 'stream', features: ['v', 's'] }),
  ]);
}

async function batchRepo(events: readonly Event[], aggs: readonly AggregationDef[], tile?: string) {
  return FeatureRepo.fromDefinitions([
    defineEntity({ name: 'ent', joinKeys: ['k'] }),
    defineSource({ name: 'ev', kind: 'table', table: eventsTable(events), createdTimestampField: 'cr' }),
    defineFeatureView({ name: 'aggs', entities: ['ent'], source: 'ev', aggregations: aggs, ...(tile ? { tile } : {}) }),
    defineFeatureView({ name: 'plain', entities: ['ent'], source: 'ev', features: ['v', 's'] }),
  ]);
}

function arrival(events: Event[], seed: number, maxDelay: number): (Event & { eid: string })[] {
  const r = rng(seed);
  const withIds = events
    .filter((e) => e.k !== null)
    .map((e) => ({ ...e, eid: `e${e.rid}`, at: e.ts + r() * maxDelay }));
  // a few exact duplicates (same id) arriving later
  for (let i = 0; i < 20; i++) {
    const d = withIds[Math.floor(r() * withIds.length)];
    withIds.push({ ...d, v: 999, at: d.at + r() * HOUR });
  }
  withIds.sort((a, b) => a.at - b.at);
  return withIds;
}

describe('streaming equals backfill', () => {
  for (const [seed, tile, prune, span, tiles, finite] of [
    [21, undefined, false, 200, 'materialize', false],
    [21, undefined, false, 200, 'virtual', false],
    [22, '5m', false, 200, 'virtual', false],
    [23, '15m', true, 600, 'auto', true],
    [24, '5m', false, 200, 'auto', true],
  ] as const) {
    const what = `${tiles} tiles${finite ? ', finite windows (training sets via event/row pairs)' : ''}${prune ? ', retention pruning' : ''}`;
    it(`seed ${seed}: push() values are identical to a batch run over the accepted events (${what})`, async () => {
      setPruneEvery(prune ? 40 : 65_536);
      setTileStrategy(tiles);
      const aggsUsed = finite ? ALL_AGGS.filter((a) => a.window !== 'lifetime') : ALL_AGGS;
      const { events } = generate({ seed, events: 1200, entities: 15, spanSlots: span });
      const lateness = 2 * HOUR;
      const stream = arrival(events, seed, 3 * HOUR);
      const repo = await pushRepo(aggsUsed, lateness, tile);
      const r = rng(seed + 100);
      let hwm = -Infinity;
      const seen = new Set<string>();
      const accepted: Event[] = [];
      let dropped = 0;
      let dups = 0;
      let checks = 0;
      for (let at = 0; at < stream.length;) {
        const batch = stream.slice(at, at + 1 + Math.floor(r() * 60));
        at += batch.length;
        for (const e of batch) {
          if (e.ts < hwm - lateness) dropped++;
          else if (seen.has(e.eid)) dups++;
          else {
            seen.add(e.eid);
            accepted.push({ ...e, rid: accepted.length });
            hwm = Math.max(hwm, e.ts);
          }
        }
        const pushed = await repo.push(
          'stream',
          batch.map((e) => ({ k: e.k, event_timestamp: e.ts, cr: e.cr, v: e.v, s: e.s, rid: e.rid, eid: e.eid })),
        );
        expect(pushed.map((p) => p.view)).toEqual(['aggs', 'plain']);
        if (r() < 0.25 || at >= stream.length) {
          checks++;
          const ref = await batchRepo(accepted, aggsUsed, tile);
          for (const p of pushed) {
            const keys = p.entityKeys.map((k) => k.k as number);
            const rows = keys.map((k) => ({ k, event_timestamp: new Date(hwm) }));
            const want = await ref.getHistoricalFeatures(rows, { features: [p.view] }).toArray();
            const strip = (o: Record<string, unknown>) => {
              const { k: _k, event_timestamp: _t, ...rest } = o;
              return rest;
            };
            expect(p.values).toEqual(want.map(strip));
            if (p.view === 'aggs') expect([...p.eventTimestampsMs]).toEqual(keys.map(() => hwm));
          }
        }
      }
      expect(checks).toBeGreaterThan(3);
      expect(dropped).toBeGreaterThan(0);
      expect(dups).toBeGreaterThan(0);
      expect(repo.streamStats('stream')).toEqual({
        highWaterMarkMs: hwm,
        accepted: accepted.length,
        droppedLate: dropped,
        duplicates: dups,
      });
      // the repo's own offline view of the push source (batch over the push log) agrees too
      const online = new Map<number, Record<string, unknown>>();
      for await (const b of repo.latestValues('aggs', { end: new Date(hwm) }))
        b.entityKeys.forEach((k, i) => online.set(k.k as number, b.values[i]));
      setPruneEvery(65_536);
      const ref = await batchRepo(accepted, aggsUsed, tile);
      for await (const b of ref.latestValues('aggs', { end: new Date(hwm) })) {
        b.entityKeys.forEach((k, i) => expect(online.get(k.k as number)).toEqual(b.values[i]));
      }
      setTileStrategy('auto');
    });
  }

  it('a late event inside the allowed lateness lands in an earlier tile exactly as if it had come in order', async () => {
    const aggs: AggregationDef[] = [
      { column: 'v', function: 'sum', window: '1h' },
      { column: 'v', function: 'last', window: 'lifetime' },
      { column: 'v', function: 'last_n', window: '1d', n: 3 },
    ];
    const repo = await pushRepo(aggs, HOUR, '10m');
    const t0 = Date.UTC(2024, 0, 1);
    const ev = (ts: number, v: number, eid: string) => ({ k: 1, event_timestamp: ts, v, eid });
    await repo.push('stream', [ev(t0, 0.1, 'a'), ev(t0 + 30 * 60_000, 0.2, 'b')]);
    // 25 minutes late, into the first tile
    const [aggsOut] = await repo.push('stream', [ev(t0 + 5 * 60_000, 0.7, 'c')]);
    expect(aggsOut.values[0]).toEqual({
      v_sum_1h: 0.1 + 0.7 + 0.2,
      v_last_lifetime: 0.2,
      v_last_n_1d: [0.1, 0.7, 0.2],
    });
    // beyond the lateness: dropped
    const [after] = await repo.push('stream', [ev(t0 - 31 * 60_000, 5, 'd')]);
    expect(after.entityKeys).toEqual([]);
    expect(repo.streamStats('stream').droppedLate).toBe(1);
  });

  it('stddev of large values with a small spread (1e9 + [0..4]) is 1.58 in push, latestValues and training sets', async () => {
    const aggs: AggregationDef[] = [
      { column: 'v', function: 'stddev', window: '1h' },
      { column: 'v', function: 'stddev', window: 'lifetime' },
    ];
    const repo = await pushRepo(aggs, HOUR, '10m');
    const t0 = Date.UTC(2024, 0, 1);
    // two tiles and out-of-order arrival: tile merges and the raw-event edge both take part
    const events = [0, 1, 2, 3, 4].map((i) => ({
      k: 1,
      event_timestamp: t0 + i * 7 * 60_000,
      v: 1e9 + i,
      eid: `e${i}`,
    }));
    const [pushed] = await repo.push('stream', [events[3], events[0], events[4], events[1], events[2]]);
    const want = Math.sqrt(2.5);
    for (const v of Object.values(pushed.values[0])) expect(v).toBeCloseTo(want, 12);
    const end = new Date(t0 + 28 * 60_000);
    for await (const b of repo.latestValues('aggs', { end }))
      for (const v of Object.values(b.values[0])) expect(v).toBeCloseTo(want, 12);
    const [row] = await repo.getHistoricalFeatures([{ k: 1, event_timestamp: end }], { features: ['aggs'] }).toArray();
    expect(row.v_stddev_1h).toBeCloseTo(want, 12);
    // epoch seconds as values (a day of events every 10 minutes): sample stddev of an arithmetic series
    const secs = Array.from({ length: 144 }, (_, i) => ({
      k: 2,
      event_timestamp: t0 + i * 600_000,
      v: t0 / 1000 + i * 600,
      eid: `s${i}`,
    }));
    const [p2] = await repo.push('stream', secs);
    const n = 144;
    expect(p2.values[0].v_stddev_lifetime).toBeCloseTo(600 * Math.sqrt((n * (n + 1)) / 12), 6);
  });

  it("a key pushed as '7' and as 7 on an int64 schema is one entity, in the stream and in the offline copy", async () => {
    const aggs: AggregationDef[] = [{ column: 'v', function: 'sum', window: '1h' }];
    const repo = await pushRepo(aggs, HOUR, '10m');
    const t0 = Date.UTC(2024, 0, 1);
    const [agg, plain] = await repo.push('stream', [
      { k: '7', event_timestamp: t0, v: 1, eid: 'a' },
      { k: 7, event_timestamp: t0 + 60_000, v: '2.5', eid: 'b' },
      { k: 7n, event_timestamp: new Date(t0 + 120_000).toISOString(), v: 4, eid: 'c' },
    ]);
    expect(agg.entityKeys).toEqual([{ k: 7 }]);
    expect(agg.values).toEqual([{ v_sum_1h: 7.5 }]);
    expect(plain.values).toEqual([{ v: 4, s: null }]);
    // the offline copy (training sets over the push log) gives the same values
    const rows = [{ k: 7, event_timestamp: new Date(t0 + 120_000) }];
    const [row] = await repo.getHistoricalFeatures(rows, { features: ['aggs', 'plain:v'] }).toArray();
    expect(row).toMatchObject({ v_sum_1h: 7.5, v: 4 });
  });

  it('a value that does not fit the push schema rejects the batch, naming the event and the field', async () => {
    const repo = await pushRepo([{ function: 'count', window: '1h' }], HOUR);
    const t0 = Date.UTC(2024, 0, 1);
    for (const [field, bad] of [
      ['v', ['lots']],
      ['v', 'lots'],
      ['k', 7.5],
      ['k', 'seven'],
      ['k', 2 ** 60],
      ['cr', 'yesterday'],
    ] as const) {
      await expect(
        repo.push('stream', [
          { k: 1, event_timestamp: t0, v: 1, eid: `ok-${field}` },
          { k: 1, event_timestamp: t0, v: 1, eid: `bad-${field}`, [field]: bad },
        ]),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { row: 1, field } });
    }
    expect(repo.streamStats('stream').accepted).toBe(0);
  });

  it('rejects a bad batch without applying any of it', async () => {
    const repo = await pushRepo([{ function: 'count', window: '1h' }], 0);
    await expect(
      repo.push('stream', [
        { k: 1, event_timestamp: 1000, eid: 'x' },
        { k: 2, event_timestamp: 'not a time', eid: 'y' },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { row: 1 } });
    await expect(repo.push('stream', [{ event_timestamp: 1000 }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(repo.streamStats('stream').accepted).toBe(0);
    await expect(repo.push('nope', [])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
