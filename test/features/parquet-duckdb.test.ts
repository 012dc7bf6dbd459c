/**
 * Parquet sources read through DuckDB: the same rows, types and values as the parquetjs-lite reader
 * (nulls, int64 beyond 2^53, timestamps with sub-millisecond digits and before 1970, long and
 * non-ASCII strings, several row groups, batches split across DuckDB chunks), and backfill tiles
 * from a Parquet source equal DuckDB's GROUP BY over the same file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../src/features/index.js';
import { collectTable } from '../../src/tables/read.js';
import {
  parquetSourceBatches,
  readParquetSchema,
  writeParquetFile,
  type ParquetReaderName,
} from '../../src/features/sources/index.js';
import { duckParquetBatches } from '../../src/features/sources/parquet-duckdb.js';
import { eventsTable } from './_fixtures.js';
import { close, duck, generate, loadIntoDuck, query } from './_oracle.js';

let con: DuckDBConnection;
let dir: string;
beforeAll(async () => {
  con = await duck();
  dir = await mkdtemp(path.join(tmpdir(), 'strata-parquet-duckdb-'));
});
afterAll(async () => {
  con.closeSync();
  await rm(dir, { recursive: true, force: true });
});

async function read(
  file: string,
  reader: ParquetReaderName,
  schema?: Record<string, string>,
  batchRows?: number,
): Promise<A.Table> {
  return collectTable(parquetSourceBatches(file, schema, { reader, batchRows }));
}

/** Both readers' tables: same field names and Arrow types, same values cell by cell. */
function expectSame(duckT: A.Table, pj: A.Table): void {
  expect(duckT.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(
    pj.schema.fields.map((f) => `${f.name}: ${String(f.type)}`),
  );
  expect(duckT.numRows).toBe(pj.numRows);
  for (const f of pj.schema.fields) {
    const a = duckT.getChild(f.name)!;
    const b = pj.getChild(f.name)!;
    const got: unknown[] = [];
    const want: unknown[] = [];
    for (let i = 0; i < pj.numRows; i++) {
      got.push(a.get(i));
      want.push(b.get(i));
    }
    expect(got, f.name).toEqual(want);
  }
}

const ROWS = 5000;
/** Columns of every scalar kind, with nulls; `i % 7 = 3` rows are null everywhere nullable. */
const SELECT = `SELECT
  CASE WHEN i % 7 = 3 THEN NULL ELSE (i * 1000003)::BIGINT * 1000003 + 9007199254740993 END AS big,
  CASE WHEN i % 11 = 0 THEN NULL ELSE (i - 2500)::INTEGER END AS i32,
  (i % 100)::SMALLINT AS i16,
  CASE WHEN i % 5 = 0 THEN NULL ELSE i / 7.0 END AS f64,
  (i / 3.0)::FLOAT AS f32,
  CASE WHEN i % 13 = 0 THEN NULL ELSE i % 2 = 0 END AS flag,
  CASE WHEN i % 7 = 3 THEN NULL
       WHEN i % 3 = 0 THEN 'k' || i
       WHEN i % 3 = 1 THEN 'a longer string than twelve bytes ' || i
       ELSE 'ünïcødé ✓ ' || i END AS s,
  CASE WHEN i % 9 = 0 THEN NULL
       ELSE make_timestamp(1_700_000_000_000_000::BIGINT + (i - 2500) * 86_400_123_457::BIGINT) END AS ts_us,
  make_timestamp(-1_000_000_000_000::BIGINT - i * 1_234_567::BIGINT) AS ts_old,
  CASE WHEN i % 4 = 0 THEN NULL ELSE DATE '2024-01-01' + (i % 400)::INTEGER END AS d
  FROM range(${ROWS}) t(i)`;

describe('Parquet through DuckDB', () => {
  it('rows and types equal the parquetjs-lite reader (nulls, int64 > 2^53, µs timestamps, strings, dates)', async () => {
    const file = path.join(dir, 'kinds.parquet');
    await con.run(`COPY (${SELECT}) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1500)`);
    const schema = await readParquetSchema(file);
    expect(schema.big).toBe('int64');
    expect(schema.ts_us).toBe('timestamp');
    const d = await read(file, 'duckdb', undefined, 777);
    expect(d.batches.length).toBe(Math.ceil(ROWS / 777));
    expectSame(d, await read(file, 'parquetjs'));
    expect(d.getChild('big')!.get(1)).toBe(1000003n * 1000003n + 9007199254740993n);
    expect(d.getChild('big')!.get(3)).toBeNull();
    // declared dtypes: a timestamp as int64 is its exact epoch microseconds; as timestamp[us] exact too
    const declared = { ts_us: 'int64', ts_old: 'timestamp[us]', i16: 'int64', f32: 'float64' };
    const dd = await read(file, 'duckdb', declared, 4096);
    expectSame(dd, await read(file, 'parquetjs', declared));
    expect(dd.getChild('ts_us')!.get(1)).toBe(1_700_000_000_000_000n - 2499n * 86_400_123_457n);
  });

  it('µs timestamps become ms truncated toward zero around 0 and past 2^52 µs; a reader stopped early closes', async () => {
    const file = path.join(dir, 'edges.parquet');
    const us = [-1001, -1000, -999, -1, 0, 1, 999, 1000, 1001, -4_503_599_627_370_497, 4_503_599_627_370_497];
    const far = `make_timestamp(${2n ** 52n + 1_234_567n}::BIGINT)`; // year 2112: the BigInt path
    await con.run(
      `COPY (SELECT CASE WHEN i % 5 = 4 THEN NULL WHEN i % 13 = 7 THEN ${far}
         ELSE make_timestamp(([${us.join(', ')}])[1 + i % ${us.length}]::BIGINT + (i // 11) * 1_000_003) END AS ts,
         i::INTEGER AS n FROM range(10000) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 3000)`,
    );
    const d = await read(file, 'duckdb', undefined, 3333);
    expectSame(d, await read(file, 'parquetjs'));
    expect(d.getChild('ts')!.get(0)).toBe(-1);
    expect(d.getChild('ts')!.get(7)).toBe(Number((2n ** 52n + 1_234_567n) / 1000n));
    for (let round = 0; round < 3; round++) {
      for await (const b of parquetSourceBatches(file, undefined, { reader: 'duckdb', batchRows: 100 })) {
        expect(b.numRows).toBe(100);
        break;
      }
    }
  });

  it('files written by writeParquetFile (TIMESTAMP_MILLIS, INT64, UTF8) read the same through both', async () => {
    const { events } = generate({ seed: 71, events: 3000, bigKeys: true });
    const file = path.join(dir, 'events.parquet');
    await writeParquetFile(eventsTable(events), file);
    expectSame(await read(file, 'duckdb'), await read(file, 'parquetjs'));
  });

  it('an empty file gives one empty batch; a list column falls back to parquetjs-lite', async () => {
    const empty = path.join(dir, 'empty.parquet');
    await con.run(`COPY (SELECT 1::BIGINT AS a, 'x' AS s WHERE false) TO '${empty}' (FORMAT parquet)`);
    const e = await read(empty, 'duckdb');
    expect(e.numRows).toBe(0);
    expectSame(e, await read(empty, 'parquetjs'));
    const lists = path.join(dir, 'lists.parquet');
    await con.run(`COPY (SELECT i::BIGINT AS a, [i, i + 1] AS l FROM range(10) t(i)) TO '${lists}' (FORMAT parquet)`);
    expect(await duckParquetBatches(lists, await readParquetSchema(lists))).toBeNull();
    expect((await read(lists, 'duckdb')).numRows).toBe(10);
  });

  it('a missing file is CORRUPT naming it', async () => {
    const missing = path.join(dir, 'missing.parquet');
    await expect(duckParquetBatches(missing, {})).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  for (const memoryLimitBytes of [undefined, 40_000]) {
    it(`backfill tiles from a Parquet source equal DuckDB's GROUP BY over the file${memoryLimitBytes ? ' (spilled)' : ''}`, async () => {
      const { events, rows } = generate({ seed: 72, events: 4000, entities: 50 });
      await loadIntoDuck(con, events, rows);
      const file = path.join(dir, `tiles-${memoryLimitBytes ?? 0}.parquet`);
      await con.run(
        `COPY (SELECT k, make_timestamp(ts * 1000) AS event_timestamp, v FROM events ORDER BY rid) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`,
      );
      const repo = await FeatureRepo.fromDefinitions(
        [
          defineEntity({ name: 'ent', joinKeys: ['k'] }),
          defineSource({ name: 'ev', kind: 'parquet', path: file }),
          defineFeatureView({
            name: 'aggs',
            entities: ['ent'],
            source: 'ev',
            tile: '1h',
            aggregations: (['count', 'sum', 'min', 'max'] as const).map((f) => ({
              column: 'v',
              function: f,
              window: '1h',
            })),
          }),
        ],
        memoryLimitBytes ? { memoryLimitBytes } : {},
      );
      let partitions = 0;
      const tiles = await repo.backfill('aggs', {
        onProgress: (p) => {
          if (p.phase.startsWith('spill ') && p.unit === 'partitions') partitions = p.total ?? 0;
        },
      });
      expect(partitions > 1).toBe(memoryLimitBytes !== undefined);
      const T = 3_600_000;
      const got = tiles
        .toArray()
        .map((r: { toJSON(): Record<string, unknown> }) => r.toJSON())
        .sort((a, b) => Number(a.k) - Number(b.k) || (a.tile_start as number) - (b.tile_start as number));
      const want = await query(
        con,
        `SELECT k, (CAST(ceil(epoch_ms(event_timestamp) / ${T}::DOUBLE) AS BIGINT) - 1) * ${T} AS tile_start,
         count(v) c, sum(v) s, min(v) mn, max(v) mx FROM read_parquet('${file}') WHERE k IS NOT NULL GROUP BY ALL ORDER BY k, tile_start`,
      );
      expect(got.length).toBe(want.length);
      want.forEach((w, i) => {
        const g = got[i];
        expect([Number(g.k), g.tile_start, Number(g.v__count)]).toEqual([w.k, w.tile_start, w.c]);
        expect(close(g.v__sum, (w.c as number) > 0 ? w.s : 0)).toBe(true);
        expect(g.v__min).toBe(w.mn ?? null);
        expect(g.v__max).toBe(w.mx ?? null);
      });
    });
  }
});
