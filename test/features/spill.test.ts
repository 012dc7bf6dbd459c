/**
 * Backfill and training sets larger than memory: a memoryLimitBytes far below the source splits its
 * events into ≥ 4 entity partitions on disk; tiles and training sets equal the in-memory engine's
 * (deep equality, same row order) and DuckDB's; spill files are removed, also after an abort.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureView,
  defineSource,
  type AggregationDef,
  type Progress,
} from '../../src/features/index.js';
import { writeParquetFile } from '../../src/features/sources/index.js';
import { ALL_AGGS, aggRepo, eventsTable, plainRepo, rowsTable } from './_fixtures.js';
import { aggSql, close, duck, generate, loadIntoDuck, oracleValue, plainSql, query } from './_oracle.js';

type Rec = Record<string, unknown>;
/** Rows of a table as plain records (list cells as arrays). */
const records = (t: A.Table): Rec[] =>
  t
    .toArray()
    .map((r: { toJSON(): Rec }) =>
      Object.fromEntries(
        Object.entries(r.toJSON()).map(([k, v]) => [
          k,
          v !== null && typeof v === 'object' && 'toArray' in v
            ? Array.from((v as A.Vector).toArray() as ArrayLike<unknown>)
            : v,
        ]),
      ),
    );

let con: DuckDBConnection;
let dir: string;
beforeAll(async () => {
  con = await duck();
  dir = await mkdtemp(path.join(tmpdir(), 'strata-spill-test-'));
});
afterAll(async () => {
  con.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const num = (x: unknown) => (typeof x === 'bigint' ? Number(x) : x);

/** Bytes of a table's buffers (what the repo estimates a table source at). */
function tableBytes(t: A.Table): number {
  let n = 0;
  for (const b of t.batches)
    for (const d of b.data.children)
      for (const buf of [d.values, d.valueOffsets, d.nullBitmap])
        n += (buf as ArrayBufferView | undefined)?.byteLength ?? 0;
  return n;
}

/** A limit splitting `bytes` of source into about 6 partitions. */
const limitFor = (bytes: number) => Math.floor((bytes * 3) / 6);

/** Progress events' spill partition count (0: not spilled). */
function spilled(events: Progress[]): number {
  return events.find((p) => p.phase.startsWith('spill ') && p.unit === 'partitions')?.total ?? 0;
}

const SIMPLE: AggregationDef[] = [
  { column: 'v', function: 'count', window: '1h' },
  { column: 'v', function: 'sum', window: '1h' },
  { column: 'v', function: 'min', window: '1h' },
  { column: 'v', function: 'max', window: '1h' },
  { function: 'count', window: '1h' },
];

describe('spill: partitioned backfill and training sets', () => {
  for (const stringKeys of [false, true]) {
    it(`backfill tiles equal the in-memory engine's and DuckDB's (${stringKeys ? 'string' : 'int'} keys)`, async () => {
      const { events, rows } = generate({ seed: 71, stringKeys, events: 4000 });
      await loadIntoDuck(con, events, rows, stringKeys);
      const table = eventsTable(events, stringKeys);
      const spillDir = await mkdtemp(path.join(dir, 'bf-'));
      for (const aggs of [SIMPLE, ALL_AGGS]) {
        const repo = await aggRepo(table, aggs, '15m');
        const whole = await repo.backfill('aggs');
        const progress: Progress[] = [];
        const parts = await repo.backfill('aggs', {
          memoryLimitBytes: limitFor(tableBytes(table)),
          spillDir,
          onProgress: (p) => progress.push(p),
        });
        expect(spilled(progress)).toBeGreaterThanOrEqual(4);
        expect(parts.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(
          whole.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
        );
        expect(records(parts)).toEqual(records(whole));
        expect(await readdir(spillDir)).toEqual([]);
      }
      const T = 15 * 60_000;
      const repo = await aggRepo(table, SIMPLE, '15m');
      const got = records(await repo.backfill('aggs', { memoryLimitBytes: limitFor(tableBytes(table)) }));
      const want = await query(
        con,
        `SELECT CAST(k AS VARCHAR) AS k, (CAST(ceil(ts / ${T}::DOUBLE) AS BIGINT) - 1) * ${T} AS tile_start, count(v) c, sum(v) s, count(*) n
         FROM events WHERE k IS NOT NULL GROUP BY ALL`,
      );
      const byKey = new Map(want.map((w) => [`${String(w.k)}|${String(w.tile_start)}`, w]));
      expect(got.length).toBe(want.length);
      for (const g of got) {
        const w = byKey.get(`${String(g.k)}|${String(g.tile_start)}`)!;
        expect(w).toBeDefined();
        expect([num(g.v__count), num(g.rows__count)]).toEqual([w.c, w.n]);
        expect(close(g.v__sum, w.s ?? 0)).toBe(true);
      }
    });

    it(`training sets equal the in-memory engine's and DuckDB's (${stringKeys ? 'string' : 'int'} keys)`, async () => {
      const { events, rows } = generate({ seed: 72, stringKeys, events: 4000, rows: 600 });
      await loadIntoDuck(con, events, rows, stringKeys);
      const table = eventsTable(events, stringKeys);
      const memoryLimitBytes = limitFor(tableBytes(table));
      for (const pairStrategy of ['auto', 'index'] as const) {
        const repo = await aggRepo(table, ALL_AGGS, '15m', { pairStrategy });
        const whole = await repo.getHistoricalFeatures(rowsTable(rows, stringKeys), { features: ['aggs'] }).toArrow();
        const progress: Progress[] = [];
        const parts = await repo
          .getHistoricalFeatures(rowsTable(rows, stringKeys), {
            features: ['aggs'],
            memoryLimitBytes,
            onProgress: (p) => progress.push(p),
          })
          .toArrow();
        expect(spilled(progress)).toBeGreaterThanOrEqual(4);
        expect(records(parts)).toEqual(records(whole));
        const view = repo.view('aggs');
        const out = records(parts);
        for (const i of [2, 4, 8, 12, 14, 21]) {
          const a = ALL_AGGS[i];
          const expected = await query(con, aggSql(a));
          const name = view.aggregations[i].name;
          for (let r = 0; r < rows.length; r++) {
            const want = oracleValue(a, expected[r].x);
            if (!close(num(out[r][name]), want, 1e-9))
              throw new Error(`${name} row ${r}: ${String(out[r][name])} vs ${String(want)}`);
          }
        }
      }
      const plain = await plainRepo(table);
      const q = rowsTable(rows, stringKeys);
      const whole = records(await plain.getHistoricalFeatures(q, { features: ['plain:v', 'plain:s'] }).toArrow());
      const parts = records(
        await plain.getHistoricalFeatures(q, { features: ['plain:v', 'plain:s'], memoryLimitBytes }).toArrow(),
      );
      expect(parts).toEqual(whole);
      const expected = await query(con, plainSql());
      parts.forEach((o, r) =>
        expect({ r, v: o.v, s: o.s }).toEqual({ r, v: expected[r].v ?? null, s: expected[r].s ?? null }),
      );
    });
  }

  it('CSV, Parquet and Arrow file sources spill to the same tiles as loaded whole', async () => {
    const { events } = generate({ seed: 73, events: 3000 });
    const table = eventsTable(events);
    const files = {
      arrow: path.join(dir, 'ev.arrow'),
      parquet: path.join(dir, 'ev.parquet'),
      csv: path.join(dir, 'ev.csv'),
    };
    await writeFile(files.arrow, A.tableToIPC(table, 'file'));
    await writeParquetFile(table, files.parquet);
    const iso = (x: unknown) => (x === null ? '' : new Date(x as number).toISOString());
    await writeFile(
      files.csv,
      'k,event_timestamp,cr,v,s,rid\n' +
        events.map((e) => [e.k ?? '', iso(e.ts), iso(e.cr), e.v ?? '', e.s ?? '', e.rid].join(',')).join('\n') +
        '\n',
    );
    for (const [kind, file] of Object.entries(files)) {
      const repo = await FeatureRepo.fromDefinitions([
        defineEntity({ name: 'ent', joinKeys: ['k'] }),
        defineSource({
          name: 'ev',
          kind,
          path: file,
          createdTimestampField: 'cr',
          ...(kind === 'csv' ? { schema: { k: 'int64', event_timestamp: 'timestamp', cr: 'timestamp' } } : {}),
        }),
        defineFeatureView({ name: 'aggs', entities: ['ent'], source: 'ev', aggregations: SIMPLE, tile: '15m' }),
      ]);
      const whole = await repo.backfill('aggs');
      const progress: Progress[] = [];
      const parts = await repo.backfill('aggs', { memoryLimitBytes: 2048, onProgress: (p) => progress.push(p) });
      expect(spilled(progress)).toBeGreaterThanOrEqual(4);
      expect({ kind, rows: records(parts) }).toEqual({ kind, rows: records(whole) });
    }
  });

  it('an abort while spilling rejects ABORTED and leaves no spill files', async () => {
    const { events } = generate({ seed: 74, events: 3000 });
    const table = eventsTable(events);
    const batches =
      table.batches.length > 1 ? table : new A.Table(table.batches[0].slice(0, 1500), table.batches[0].slice(1500));
    const repo = await aggRepo(batches, SIMPLE, '15m');
    const spillDir = await mkdtemp(path.join(dir, 'abort-'));
    const ctl = new AbortController();
    await expect(
      repo.backfill('aggs', {
        memoryLimitBytes: 1024,
        spillDir,
        signal: ctl.signal,
        onProgress: (p) => {
          if (p.phase === 'spill') ctl.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await readdir(spillDir)).toEqual([]);
    await expect(repo.backfill('aggs', { memoryLimitBytes: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
