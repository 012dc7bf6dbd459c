/**
 * Parquet outside vitest's module loader, and both ways with DuckDB: toParquet, fromParquet and
 * ingest of a Parquet table in a child `node` process; DuckDB-written files read by fromParquet and
 * ingest; Strata-written files read by DuckDB — int64 beyond 2^53, float, string, timestamp, null.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { ingest } from '../../src/ingest/index.js';
import { makeJpeg } from '../helpers/media.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-parquet-child-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

async function values(ds: Dataset, columns: readonly string[]): Promise<Record<string, unknown[]>> {
  return Object.fromEntries(await Promise.all(columns.map(async (c) => [c, await ds.values(c)] as const)));
}

describe('Parquet in a child node process', () => {
  it('toParquet, fromParquet and ingest of a Parquet table work under plain Node', async () => {
    const work = path.join(dir, 'child');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'parquet-child.ts'), work],
      { cwd: path.resolve('.') },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, Record<string, unknown>>;
    const want = {
      n: [`${2n ** 60n + 1n}n`, null, '-7n'],
      weight: [0.5, null, 2.25],
      note: ['a', null, 'c'],
    };
    expect(out.fromParquet).toEqual({ file: ['0.jpg', '1.jpg', '2.jpg'], ...want });
    expect(out.ingest).toEqual({ ingested: 3, skipped: [], _source: ['0.jpg', '1.jpg', '2.jpg'], ...want });
  });
});

describe('Parquet with DuckDB, both ways', () => {
  const duckSelect = `
    SELECT i || '.jpg' AS file,
           CASE WHEN i = 1 THEN NULL ELSE 9007199254740993 + i END AS big,
           (i * 1.25)::FLOAT AS f32,
           CASE WHEN i = 2 THEN NULL ELSE i / 3 END AS f64,
           CASE WHEN i = 1 THEN NULL ELSE 'name ' || i || ' ✓' END AS s,
           CASE WHEN i = 2 THEN NULL ELSE TIMESTAMP '2024-03-01 12:00:00.123456' + INTERVAL (i) HOUR END AS ts,
           TIMESTAMP_MS '2021-06-30 23:59:59.999' + INTERVAL (i) SECOND AS ts_ms
    FROM range(3) t(i)`;

  async function expectDuckValues(ds: Dataset, file: string): Promise<void> {
    const want = await duckRows(
      `SELECT big, f32, f64, s, epoch_us(ts) AS ts, epoch_us(ts_ms) AS ts_ms FROM read_parquet('${file}') ORDER BY file`,
    );
    expect(ds.schema).toMatchObject({
      big: { htype: 'generic', dtype: 'int64' },
      f32: { htype: 'generic', dtype: 'float32' },
      f64: { htype: 'generic', dtype: 'float64' },
      s: { htype: 'text' },
      ts: { htype: 'generic', dtype: 'int64' },
      ts_ms: { htype: 'generic', dtype: 'int64' },
    });
    const got = await values(ds, ['big', 'f32', 'f64', 's', 'ts', 'ts_ms']);
    expect(got.big).toEqual(want.map((r) => r.big));
    expect(got.big[0]).toBe(9007199254740993n);
    expect(got.f32).toEqual(want.map((r) => r.f32));
    expect(got.f64).toEqual(want.map((r) => r.f64));
    expect(got.s).toEqual(want.map((r) => r.s));
    expect(got.ts).toEqual(want.map((r) => r.ts));
    expect(got.ts[0]).toBe(1709294400123456n);
    expect(got.ts_ms).toEqual(want.map((r) => r.ts_ms));
  }

  it('a DuckDB-written Parquet file reads exactly through fromParquet', async () => {
    const file = path.join(dir, 'duck-from.parquet');
    await duckRows(`COPY (${duckSelect}) TO '${file}' (FORMAT parquet)`);
    const ds = await Dataset.fromParquet(file, `memory://duck-from-${Date.now()}`);
    await expectDuckValues(ds, file);
    await ds.close();
  });

  it('a DuckDB-written Parquet table reads exactly through ingest', async () => {
    const root = path.join(dir, 'duck-ingest');
    await mkdir(root, { recursive: true });
    for (let i = 0; i < 3; i++)
      await writeFile(path.join(root, `${i}.jpg`), await makeJpeg({ width: 8, height: 6, seed: i }));
    const file = path.join(root, 'meta.parquet');
    await duckRows(`COPY (${duckSelect}) TO '${file}' (FORMAT parquet)`);
    const target = `memory://duck-ingest-${Date.now()}`;
    const summary = await ingest(root, target, { table: 'meta.parquet' });
    expect(summary).toMatchObject({ ingested: 3, skipped: [] });
    const ds = await Dataset.open(target);
    expect(await ds.values('_source')).toEqual(['0.jpg', '1.jpg', '2.jpg']);
    await expectDuckValues(ds, file);
    await ds.close();
  });

  it('a Strata-written Parquet file reads in DuckDB with the same values', async () => {
    const ds = await Dataset.create(`memory://to-duck-${Date.now()}`, {
      schema: { big: 'int64', f32: 'float32', f64: 'float64', s: 'text', flag: 'bool' },
    });
    const rows = [
      { big: 2n ** 62n + 12345n, f32: 1.5, f64: 1 / 3, s: 'a ✓', flag: true },
      { big: null, f32: null, f64: null, s: null, flag: null },
      { big: -(2n ** 60n) - 1n, f32: -0.25, f64: 1e300, s: '', flag: false },
    ];
    await ds.append(rows);
    await ds.commit('rows');
    const file = path.join(dir, 'to-duck.parquet');
    await ds.toParquet(file);
    await ds.close();
    const got = await duckRows(`SELECT big, f32, f64, s, flag FROM read_parquet('${file}')`);
    expect(got).toEqual(rows);
    const types = await duckRows(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`,
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      big: 'BIGINT',
      f32: 'FLOAT',
      f64: 'DOUBLE',
      s: 'VARCHAR',
      flag: 'BOOLEAN',
    });
  });
});
