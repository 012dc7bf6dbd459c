/**
 * Partitioned backfill and latest values: the P = 4 shards of a view, together, are exactly the
 * unsharded output (the same tiles and values, bit for bit), each entity in exactly one shard.
 */
import type * as A from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { encodeEntityKey } from '../../src/online/keys.js';
import { shardOfEntity } from '../../src/shard.js';
import { aggRepo, eventsTable, rowsTable } from './_fixtures.js';
import { generate } from './_oracle.js';

type Rec = Record<string, unknown>;
const records = (t: A.Table): Rec[] => t.toArray().map((r: { toJSON(): Rec }) => r.toJSON());
const P = 4;
const AGGS = [
  { column: 'v', function: 'sum', window: '1h' },
  { column: 'v', function: 'stddev', window: '1h' },
  { column: 'v', function: 'max', window: '1h' },
  { function: 'count', window: '1h', where: "s = 'a'" },
] as const;

/** Rows ordered by entity key text, then tile start: a canonical order for comparing tables. */
function canonical(rows: Rec[]): Rec[] {
  const key = (r: Rec) => encodeEntityKey({ k: r.k }) + '|' + String(Number(r.tile_start ?? 0)).padStart(20, '0');
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('sharded backfill and latestValues', () => {
  for (const [name, opts] of [
    ['int keys', {}],
    ['string keys', { stringKeys: true }],
    ['int64 keys > 2^53', { bigKeys: true, noNullKeys: true }],
  ] as const) {
    it(`P = ${P} shards together equal the unsharded tiles and values (${name})`, async () => {
      const { events } = generate({ seed: 41, events: 3000, entities: 60, ...opts });
      const table = eventsTable(events, 'stringKeys' in opts);
      for (const direct of [true, false]) {
        const repo = await aggRepo(table, AGGS, '15m');
        // direct tile build, or (after a lookup built the sorted index) tiles from the index
        if (!direct) for await (const _ of repo.latestValues('aggs', { end: new Date() })) void _;
        const whole = records(await repo.backfill('aggs'));
        const parts: Rec[][] = [];
        for (let index = 0; index < P; index++) {
          const part = records(await repo.backfill('aggs', { shard: { index, count: P } }));
          expect(part.every((r) => shardOfEntity({ k: r.k }, ['k'], P) === index)).toBe(true);
          parts.push(part);
        }
        expect(parts.filter((p) => p.length > 0).length).toBe(P);
        expect(canonical(parts.flat())).toEqual(canonical(whole));
      }

      const repo = await aggRepo(table, AGGS, '15m');
      const end = new Date(Math.max(...events.map((e) => e.ts)) - 30 * 60_000);
      const latest = async (shard?: { index: number; count: number }) => {
        const out: Rec[] = [];
        for await (const b of repo.latestValues('aggs', { end, ...(shard ? { shard } : {}) }))
          b.entityKeys.forEach((k, i) => out.push({ ...k, ...b.values[i], ts: b.eventTimestampsMs[i] }));
        return out;
      };
      const wholeLatest = await latest();
      const shardLatest: Rec[] = [];
      for (let index = 0; index < P; index++) shardLatest.push(...(await latest({ index, count: P })));
      expect(wholeLatest.length).toBeGreaterThan(20);
      expect(canonical(shardLatest)).toEqual(canonical(wholeLatest));
    });
  }

  it(`P = ${P} shards of a training set together are the unsharded set, each row once, in its shard`, async () => {
    const { events, rows } = generate({ seed: 43, events: 3000, entities: 60, rows: 500 });
    const repo = await aggRepo(eventsTable(events), AGGS, '15m');
    const entityRows = rowsTable(rows);
    const whole = records(await repo.getHistoricalFeatures(entityRows, { features: ['aggs'] }).toArrow());
    const parts: Rec[][] = [];
    for (let index = 0; index < P; index++) {
      const part = repo.getHistoricalFeatures(entityRows, { features: ['aggs'], shard: { index, count: P } });
      const got = records(await part.toArrow());
      expect(got.every((r) => shardOfEntity({ k: r.k }, ['k'], P) === index)).toBe(true);
      parts.push(got);
    }
    expect(parts.filter((p) => p.length > 0).length).toBe(P);
    const byRow = (a: Rec, b: Rec) => Number(a.qid) - Number(b.qid);
    expect(parts.flat().sort(byRow)).toEqual([...whole].sort(byRow));
    // each shard keeps its rows in entity-row order
    for (const p of parts)
      expect(p.map((r) => Number(r.qid))).toEqual(p.map((r) => Number(r.qid)).sort((a, b) => a - b));
    // a bad shard is refused when the job is made, before any row is read
    expect(() => repo.getHistoricalFeatures(entityRows, { features: ['aggs'], shard: { index: 4, count: P } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
    );
  });

  it('an entity’s shard is a stable function of its schema-typed key', () => {
    // pinned: the same in every process, on every run and every machine
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((k) => shardOfEntity({ user_id: k }, ['user_id'], 4))).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((k) => shardOfEntity({ user_id: BigInt(k) }, ['user_id'], 4)),
    );
    expect(shardOfEntity({ user_id: 7 }, ['user_id'], 1000)).toBe(PINNED_7);
    // the string '7' is another key than the int64 7 (as in the online store), and may be in another shard
    expect(encodeEntityKey({ user_id: '7' })).not.toBe(encodeEntityKey({ user_id: 7 }));
    // join key order does not matter
    expect(shardOfEntity({ a: 1, b: 'x' }, ['b', 'a'], 16)).toBe(shardOfEntity({ b: 'x', a: 1 }, ['a', 'b'], 16));
  });
});

/** sha256('user_id=i:7'), first 6 bytes big-endian, mod 1000 (computed independently with Python's hashlib). */
const PINNED_7 = 181;
