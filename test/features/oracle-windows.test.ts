/**
 * Property test: every aggregation cell of getHistoricalFeatures equals DuckDB computing the same
 * definition with a range join (random data with duplicate times, boundary times, nulls, empty
 * windows, unknown keys; several seeds, int and string keys, several tile widths).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPairStrategy } from '../../src/features/historical.js';
import { setTileStrategy } from '../../src/features/series.js';
import { setParallelMinEvents } from '../../src/features/sort.js';
import { ALL_AGGS, aggRepo, eventsTable, rowsTable } from './_fixtures.js';
import { aggSql, close, duck, generate, loadIntoDuck, oracleValue, query } from './_oracle.js';

let con: DuckDBConnection;
beforeAll(async () => {
  con = await duck();
});
afterAll(() => {
  con.closeSync();
});

const FINITE = ALL_AGGS.filter((a) => a.window !== 'lifetime');

const CASES = [
  { seed: 6, stringKeys: false, tile: undefined, tiles: 'auto', aggs: 'finite', path: 'pairs' },
  { seed: 7, stringKeys: true, tile: '15m', tiles: 'auto', aggs: 'finite', path: 'pairs', threads: 2 },
  { seed: 7, stringKeys: true, tile: '15m', tiles: 'virtual', aggs: 'finite', path: 'index' },
  {
    seed: 8,
    stringKeys: false,
    tile: '5m',
    entities: 5,
    events: 2500,
    tiles: 'auto',
    aggs: 'finite',
    path: 'pairs',
    threads: 2,
  },
  { seed: 1, stringKeys: false, tile: undefined, tiles: 'materialize' },
  { seed: 1, stringKeys: false, tile: undefined, tiles: 'virtual' },
  { seed: 2, stringKeys: true, tile: undefined, tiles: 'materialize' },
  { seed: 3, stringKeys: false, tile: '15m', tiles: 'virtual' },
  { seed: 4, stringKeys: false, tile: '5m', entities: 5, events: 2500, tiles: 'materialize' },
  { seed: 4, stringKeys: false, tile: '5m', entities: 5, events: 2500, tiles: 'virtual' },
  { seed: 5, stringKeys: true, tile: '1m', spanSlots: 40, tiles: 'auto' },
  // large values with a small spread (stddev must not cancel): 1e9 + [-5, 15], and epoch seconds
  { seed: 41, stringKeys: false, tile: '15m', tiles: 'materialize', valueOffset: 1e9 },
  { seed: 41, stringKeys: false, tile: '15m', tiles: 'virtual', valueOffset: 1e9 },
  { seed: 42, stringKeys: false, tile: undefined, tiles: 'auto', aggs: 'finite', path: 'pairs', valueOffset: 1e9 },
  { seed: 43, stringKeys: false, tile: '5m', tiles: 'materialize', epochValues: true },
  { seed: 43, stringKeys: false, tile: '5m', tiles: 'virtual', epochValues: true, threads: 2 },
  // int64 keys 2^60 + i: distinct entities that collapse to one float64
  { seed: 44, stringKeys: false, tile: '15m', tiles: 'materialize', bigKeys: true },
  { seed: 45, stringKeys: false, tile: undefined, tiles: 'auto', aggs: 'finite', path: 'pairs', bigKeys: true },
] as const;

describe('aggregation views vs DuckDB', () => {
  for (const c of CASES) {
    const aggs = 'aggs' in c ? FINITE : ALL_AGGS;
    const path = 'path' in c ? c.path : 'index';
    const values =
      ('valueOffset' in c ? ', values 1e9 + small' : 'epochValues' in c ? ', epoch-second values' : '') +
      ('bigKeys' in c ? ', int64 keys > 2^53' : '');
    it(`seed ${c.seed} (${c.stringKeys ? 'string' : 'int'} keys, tile ${c.tile ?? 'default'}, ${c.tiles} tiles, ${aggs === FINITE ? 'finite windows' : 'all windows'}, ${path}${'threads' in c ? ', two threads' : ''}${values})`, async () => {
      setTileStrategy(c.tiles);
      setPairStrategy(path === 'index' ? 'index' : 'auto');
      setParallelMinEvents('threads' in c ? 1 : 1_000_000);
      const { events, rows } = generate({
        seed: c.seed,
        stringKeys: c.stringKeys,
        entities: 'entities' in c ? c.entities : undefined,
        events: 'events' in c ? c.events : undefined,
        spanSlots: 'spanSlots' in c ? c.spanSlots : undefined,
        valueOffset: 'valueOffset' in c ? c.valueOffset : undefined,
        epochValues: 'epochValues' in c ? c.epochValues : undefined,
        bigKeys: 'bigKeys' in c ? c.bigKeys : undefined,
        noNullKeys: 'bigKeys' in c,
      });
      await loadIntoDuck(con, events, rows, c.stringKeys);
      const repo = await aggRepo(eventsTable(events, c.stringKeys), aggs, c.tile);
      const view = repo.view('aggs');
      const out = await repo.getHistoricalFeatures(rowsTable(rows, c.stringKeys), { features: ['aggs'] }).toArray();
      expect(out.length).toBe(rows.length);
      let cells = 0;
      for (let i = 0; i < aggs.length; i++) {
        const a = aggs[i];
        const name = view.aggregations[i].name;
        const expected = await query(con, aggSql(a));
        const rel = a.function === 'stddev' ? 1e-6 : 1e-9;
        for (let r = 0; r < rows.length; r++) {
          const want = oracleValue(a, expected[r].x);
          const got = out[r][name];
          if (!close(got, want, rel)) {
            throw new Error(
              `${name} row ${r} (key ${rows[r].qk}, t ${rows[r].qts}): engine ${JSON.stringify(got)} ≠ DuckDB ${JSON.stringify(want)}`,
            );
          }
          cells++;
        }
      }
      expect(cells).toBe(aggs.length * rows.length);
      setTileStrategy('auto');
      setPairStrategy('auto');
      setParallelMinEvents(1_000_000);
    });
  }
});
