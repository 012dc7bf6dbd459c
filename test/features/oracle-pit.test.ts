/**
 * Property test: plain-view point-in-time joins equal DuckDB's ASOF JOIN (events deduplicated per
 * key and time by created timestamp, then row order), with and without ttl, over random data with
 * duplicate times, ties, null values, null keys and unknown keys.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setParallelMinEvents } from '../../src/features/sort.js';
import { eventsTable, plainRepo, rowsTable } from './_fixtures.js';
import { HOUR, duck, generate, loadIntoDuck, plainSql, query } from './_oracle.js';

let con: DuckDBConnection;
beforeAll(async () => {
  con = await duck();
});
afterAll(() => con.closeSync());

const CASES: {
  seed: number;
  stringKeys: boolean;
  ttl?: number;
  entities?: number;
  threads?: number;
  bigKeys?: boolean;
}[] = [
  { seed: 11, stringKeys: false, ttl: undefined },
  { seed: 12, stringKeys: false, ttl: 2 * HOUR },
  { seed: 13, stringKeys: true, ttl: 45 * 60_000 },
  { seed: 14, stringKeys: true, ttl: undefined, entities: 3 },
  { seed: 15, stringKeys: false, ttl: 1, entities: 10 },
  { seed: 16, stringKeys: false, ttl: 3 * HOUR, threads: 2 },
  { seed: 17, stringKeys: true, ttl: undefined, threads: 2, entities: 600 },
  // int64 keys 2^60 + i: distinct entities that collapse to one float64
  { seed: 18, stringKeys: false, ttl: 2 * HOUR, bigKeys: true },
  { seed: 19, stringKeys: false, ttl: undefined, bigKeys: true, threads: 2 },
];

describe('plain views vs DuckDB ASOF JOIN', () => {
  for (const c of CASES) {
    it(`seed ${c.seed} (${c.stringKeys ? 'string' : c.bigKeys ? 'int64 > 2^53' : 'int'} keys, ttl ${c.ttl ?? 'none'}${c.threads ? ', two threads' : ''})`, async () => {
      setParallelMinEvents(c.threads ? 1 : 1_000_000);
      const { events, rows } = generate({
        seed: c.seed,
        stringKeys: c.stringKeys,
        entities: c.entities,
        bigKeys: c.bigKeys,
        noNullKeys: c.bigKeys,
      });
      await loadIntoDuck(con, events, rows, c.stringKeys);
      const repo = await plainRepo(eventsTable(events, c.stringKeys), c.ttl);
      const out = await repo
        .getHistoricalFeatures(rowsTable(rows, c.stringKeys), { features: ['plain:v', 'plain:s'] })
        .toArray();
      const expected = await query(con, plainSql(c.ttl));
      let hits = 0;
      for (let r = 0; r < rows.length; r++) {
        expect({ r, v: out[r].v, s: out[r].s }).toEqual({ r, v: expected[r].v ?? null, s: expected[r].s ?? null });
        if (out[r].v !== null || out[r].s !== null) hits++;
      }
      // the data must exercise both hits and misses
      expect(hits).toBeGreaterThan(0);
      expect(hits).toBeLessThan(rows.length);
      // entity rows come back unchanged, in order
      expect(out.map((o) => o.qid)).toEqual(rows.map((q) => q.qid));
      setParallelMinEvents(1_000_000);
    });
  }
});
