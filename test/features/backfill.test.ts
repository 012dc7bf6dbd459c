/** Backfill tiles equal DuckDB's GROUP BY entity, tile; the sort-once step equals a plain sort. */
import type { DuckDBConnection } from '@duckdb/node-api';
import type * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromRecords } from '../../src/features/engine/build.js';
import { sortEvents } from '../../src/features/engine/sort.js';
import { aggRepo, eventsTable } from './_fixtures.js';
import { close, duck, generate, loadIntoDuck, query, rng } from './_oracle.js';

type Rec = Record<string, unknown>;
/** Rows of a table as plain records. */
const records = (t: A.Table): Rec[] => t.toArray().map((r: { toJSON(): Rec }) => r.toJSON());

let con: DuckDBConnection;

/** Orders integer keys exactly (bigints beyond 2^53 included). */
function cmpKey(a: unknown, b: unknown): number {
  const x = BigInt(a as bigint);
  const y = BigInt(b as bigint);
  return x < y ? -1 : x > y ? 1 : 0;
}
beforeAll(async () => {
  con = await duck();
});
afterAll(() => con.closeSync());

describe('backfill', () => {
  for (const [seed, tile, bigKeys] of [
    [31, '1m', false],
    [32, '15m', false],
    [33, '1h', false],
    [36, '15m', true],
  ] as const) {
    it(`tiles (${tile}) equal GROUP BY k, tile in DuckDB (seed ${seed}${bigKeys ? ', int64 keys > 2^53' : ''})`, async () => {
      const { events, rows } = generate({ seed, bigKeys, noNullKeys: bigKeys });
      await loadIntoDuck(con, events, rows);
      const repo = await aggRepo(
        eventsTable(events),
        [
          { column: 'v', function: 'count', window: '1h' },
          { column: 'v', function: 'sum', window: '1h' },
          { column: 'v', function: 'min', window: '1h' },
          { column: 'v', function: 'max', window: '1h' },
          { function: 'count', window: '1h' },
        ],
        tile,
      );
      const T = repo.view('aggs').tileMs!;
      const tiles = await repo.backfill('aggs');
      expect(tiles.schema.fields.map((f) => f.name)).toEqual([
        'k',
        'tile_start',
        'v__count',
        'v__sum',
        'v__min',
        'v__max',
        'rows__count',
      ]);
      const got = records(tiles).sort(
        (a, b) => cmpKey(a.k, b.k) || (a.tile_start as number) - (b.tile_start as number),
      );
      const want = await query(
        con,
        `SELECT CAST(k AS VARCHAR) AS k, (CAST(ceil(ts / ${T}::DOUBLE) AS BIGINT) - 1) * ${T} AS tile_start, count(v) c, sum(v) s, min(v) mn, max(v) mx, count(*) n
         FROM events WHERE k IS NOT NULL GROUP BY ALL`,
      );
      want.sort((a, b) => cmpKey(a.k, b.k) || (a.tile_start as number) - (b.tile_start as number));
      expect(got.length).toBe(want.length);
      want.forEach((w, i) => {
        const g = got[i];
        expect([String(g.k), g.tile_start, Number(g.v__count), Number(g.rows__count)]).toEqual([
          w.k,
          w.tile_start,
          w.c,
          w.n,
        ]);
        expect(close(g.v__sum, (w.c as number) > 0 ? w.s : 0)).toBe(true);
        expect(g.v__min).toBe(w.mn ?? null);
        expect(g.v__max).toBe(w.mx ?? null);
      });
      // a time range keeps the overlapping tiles
      const start = new Date(Math.min(...got.map((g) => g.tile_start as number)));
      const some = await repo.backfill('aggs', { start, end: new Date(start.getTime() + 3 * T) });
      expect(some.numRows).toBeGreaterThan(0);
      expect(some.numRows).toBeLessThan(tiles.numRows);
    });
  }

  it('direct tile build equals tiles from the sorted index, bit for bit (one and two threads)', async () => {
    const { events } = generate({ seed: 34, events: 4000, entities: 30, spanSlots: 60 });
    const aggs = [
      { column: 'v', function: 'sum', window: '1h' },
      { column: 'v', function: 'stddev', window: '1h' },
      { column: 'v', function: 'min', window: '1h' },
      { function: 'count', window: '1h', where: "s = 'a'" },
    ] as const;
    for (const threads of [1, 2]) {
      const engine = { parallelMinEvents: threads === 2 ? 1 : Infinity };
      const direct = await (await aggRepo(eventsTable(events), aggs, '15m', engine)).backfill('aggs');
      const viaIndex = await aggRepo(eventsTable(events), aggs, '15m', engine);
      for await (const _ of viaIndex.latestValues('aggs', { end: new Date() })) void _;
      const indexed = await viaIndex.backfill('aggs');
      expect(direct.numRows).toBe(indexed.numRows);
      expect(records(direct)).toEqual(records(indexed));
    }
  });

  it('key columns keep their type (int32, int64, string) and a time range keeps exactly the overlapping tiles', async () => {
    const aggs = [
      { column: 'v', function: 'sum', window: '1h' },
      { function: 'count', window: '1h' },
    ] as const;
    const gen = { seed: 35, events: 3000, entities: 25, spanSlots: 80 };
    const { events } = generate(gen);
    const sources = [
      [
        'Int32',
        tableFromRecords(
          events.map((e) => ({ k: e.k, event_timestamp: e.ts, cr: e.cr, v: e.v })),
          { dtypes: { k: 'int32', event_timestamp: 'timestamp', cr: 'timestamp', v: 'float64' } },
        ),
      ],
      ['Int64', eventsTable(events)],
      ['Utf8', eventsTable(generate({ ...gen, stringKeys: true }).events, true)],
    ] as const;
    for (const [type, table] of sources) {
      const none = await (await aggRepo(table.slice(0, 0), aggs, '15m')).backfill('aggs');
      expect([none.numRows, String(none.schema.fields[0].type)]).toEqual([0, type]);
    }
    // rows with the key as a number ('u7' → 7 for string keys)
    const rowsOf = (t: A.Table) =>
      records(t).map((r): Rec => ({ ...r, k: Number(String(r.k as string | number).replace(/^u/, '')) }));
    const T = 15 * 60_000;
    let want: ReturnType<typeof rowsOf> | undefined;
    for (const [type, table] of sources) {
      const repo = await aggRepo(table, aggs, '15m');
      const tiles = await repo.backfill('aggs');
      expect(String(tiles.schema.fields[0].type), type).toBe(type);
      const got = rowsOf(tiles);
      want ??= got;
      expect(got, type).toEqual(want);
      // a range [start, end) keeps the tiles (tile_start, tile_start + T] that overlap it, and nothing else
      // (on tile boundaries and between them)
      const starts = got.map((r) => r.tile_start as number).sort((x, y) => x - y);
      for (const offset of [0, T / 2]) {
        const start = starts[Math.floor(starts.length / 3)] + offset;
        const end = start + 7 * T;
        const kept = rowsOf(await repo.backfill('aggs', { start: new Date(start), end: new Date(end) }));
        expect(kept.length).toBeGreaterThan(0);
        expect(kept.length).toBeLessThan(got.length);
        expect(kept, `${type} +${offset}`).toEqual(
          got.filter((r) => (r.tile_start as number) + T > start && (r.tile_start as number) < end),
        );
      }
    }
  });

  it('reports the events it drops for a null key or time (backfill, training sets)', async () => {
    const { events, rows } = generate({ seed: 37, events: 600 });
    events[5].ts = Number.NaN; // a null event time
    const nullKeys = events.filter((e) => e.k === null).length;
    expect(nullKeys).toBeGreaterThan(0);
    const table = tableFromRecords(
      events.map((e) => ({ k: e.k, event_timestamp: e.ts === e.ts ? e.ts : null, cr: e.cr, v: e.v })),
      { dtypes: { k: 'int64', event_timestamp: 'timestamp', cr: 'timestamp', v: 'float64' } },
    );
    const want = nullKeys + (events[5].k === null ? 0 : 1);
    for (const aggs of [
      [{ column: 'v', function: 'sum', window: '1h' }],
      [{ column: 'v', function: 'last', window: '1h' }],
    ] as const) {
      const repo = await aggRepo(table, aggs, '15m');
      const seen: { phase: string; done: number; total?: number }[] = [];
      await repo.backfill('aggs', { onProgress: (p) => seen.push(p) });
      await repo
        .getHistoricalFeatures(
          rows.map((q) => ({ k: q.qk, event_timestamp: q.qts })),
          { features: ['aggs'], onProgress: (p) => seen.push(p) },
        )
        .toArray();
      const dropped = seen.filter((p) => p.phase === 'dropped aggs');
      expect(dropped.length).toBeGreaterThan(0);
      for (const p of dropped) expect([p.done, p.total]).toEqual([want, events.length]);
    }
  });

  it('needs a known view', async () => {
    const repo = await aggRepo(eventsTable(generate({ seed: 1, events: 10 }).events), [
      { function: 'count', window: '1h' },
    ]);
    await expect(repo.backfill('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('sortEvents', () => {
  it('orders by (code, time, created, input) and drops missing codes/times: radix, fallback and two-thread paths', async () => {
    for (const [seed, frac, huge, threads, n, nCodes] of [
      [1, false, false, 1, 5000, 700],
      [2, true, false, 1, 5000, 700],
      [3, false, true, 1, 5000, 700],
      [4, false, false, 2, 5000, 700],
      [5, true, false, 2, 5000, 700],
      [6, false, false, 2, 60_000, 3],
    ] as const) {
      const r = rng(seed);
      const codes = new Int32Array(n);
      const ts = new Float64Array(n);
      const created = new Float64Array(n);
      const val = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        codes[i] = r() < 0.02 ? -1 : Math.floor(r() * nCodes);
        // big inputs: 31-bit times in buckets of >16k events (16-bit radix digits)
        const t = n > 10_000 ? Math.floor(r() * 2 ** 31) : Math.floor(r() * 50) * (huge ? 2 ** 40 : 1000);
        ts[i] = r() < 0.01 ? Number.NaN : t + (frac ? r() : 0);
        created[i] = r() < 0.3 ? Number.NaN : Math.floor(r() * 3);
        val[i] = i;
      }
      const s = await sortEvents(codes, nCodes, ts, created, [val], threads === 2 ? 1 : Infinity);
      const expected = [...Array(n).keys()]
        .filter((i) => codes[i] >= 0 && !Number.isNaN(ts[i]))
        .sort(
          (a, b) =>
            codes[a] - codes[b] ||
            ts[a] - ts[b] ||
            (Number.isNaN(created[a]) ? -Infinity : created[a]) - (Number.isNaN(created[b]) ? -Infinity : created[b]) ||
            a - b,
        );
      expect(Array.from(s.order)).toEqual(expected);
      expect(Array.from(s.carried[0])).toEqual(expected);
      expect(Array.from(s.ts)).toEqual(expected.map((i) => ts[i]));
      for (let c = 0; c < nCodes; c++) {
        for (let p = s.offsets[c]; p < s.offsets[c + 1]; p++) expect(codes[s.order[p]]).toBe(c);
      }
      expect(s.order.buffer instanceof SharedArrayBuffer).toBe(threads === 2);
    }
  });
});
