import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { Dataset } from '../../src/dataset/dataset.js';
import { useDuckDB } from '../helpers/duckdb.js';
import { rng } from '../helpers/random.js';

// How columns reach DuckDB (src/interop/sql/load.ts): scalar columns as whole typed arrays, string
// columns as dictionary codes (strings past the dictionary's limit copied one by one), each checked
// against DuckDB over the exported Parquet, over several fragments with deleted rows.

const oracle = useDuckDB({ scratch: 'strata-sql-load-' });

const schema = {
  label: 'text',
  name: 'text',
  tiny: 'int8',
  u16: 'uint16',
  f32: 'float32',
  flag: 'bool',
  big: 'int64',
} as const;

/** Three fragments of `n` rows: a few labels, then names with more distinct values than the dictionary keeps. */
async function dataset(seed: string, n: number): Promise<Dataset> {
  const r = rng(seed);
  const maybe = <T>(v: T): T | null => (r() < 0.1 ? null : v);
  const ds = await Dataset.create(`memory://sql-load-${randomBytes(6).toString('hex')}`, {
    schema,
    chunkSizeBytes: 4096,
  });
  for (let f = 0; f < 3; f++) {
    await ds.extend({
      label: Array.from({ length: n }, () => maybe(['cat', 'dög', 'bird', '猫', "o'b"][Math.floor(r() * 5)])),
      name: Array.from({ length: n }, (_, i) => maybe(`n${f}-${i}${r() < 0.2 ? 'é' : ''}`)),
      tiny: Array.from({ length: n }, () => maybe(Math.floor(r() * 256) - 128)),
      u16: Array.from({ length: n }, () => maybe(Math.floor(r() * 65536))),
      f32: Array.from({ length: n }, () => maybe(Math.fround(r() * 100 - 50))),
      flag: Array.from({ length: n }, () => maybe(r() < 0.5)),
      big: Array.from({ length: n }, () => maybe(BigInt(Math.floor(r() * 1e12)) * 1000n)),
    });
    await ds.commit(`fragment ${f}`);
  }
  const ids = await ds.rowIds();
  await ds.delete({ rowIds: Array.from(ids).filter((_, i) => i % 11 === 4) });
  await ds.commit('delete');
  return ds;
}

function rows(t: Table): Record<string, unknown>[] {
  return t.toArray().map((r: { toJSON(): Record<string, unknown> }) => {
    const o = r.toJSON();
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
  });
}

function plain(objects: Record<string, unknown>[]): Record<string, unknown>[] {
  return objects.map((o) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );
}

describe('ds.sql loads typed and dictionary columns exactly', () => {
  it('every row in order, groups and distinct counts equal DuckDB over the exported Parquet', async () => {
    await using ds = await dataset('sql-load', 2500);
    const file = join(oracle.dir, `load-${randomBytes(4).toString('hex')}.parquet`);
    await ds.toParquet(file);
    await oracle.con.run(`CREATE OR REPLACE VIEW ds AS SELECT * FROM read_parquet('${file}')`);
    const queries = [
      'SELECT * FROM ds',
      `SELECT label, count(*) AS n, count(DISTINCT name) AS names, sum(tiny) AS t, sum(u16) AS u, sum(big) AS b,
         count(flag) AS nf, sum(flag::INT) AS tf, min(f32) AS lo, max(f32) AS hi
         FROM ds GROUP BY label ORDER BY label NULLS LAST`,
      "SELECT name, u16 FROM ds WHERE name LIKE 'n2-1%é' ORDER BY name",
    ];
    for (const q of queries) {
      const want = plain((await oracle.con.runAndReadAll(q)).getRowObjectsJS());
      expect(rows(await ds.sql(q, { cache: false })), q).toEqual(want);
      expect(rows(await ds.sql(q)), q).toEqual(want);
    }
    expect(Number((await ds.sql('SELECT count(DISTINCT name) AS d FROM ds')).get(0)!.d)).toBeGreaterThan(4096);
  });

  it('a whole version is cached once; a view of it is a table of its own', async () => {
    await using ds = await dataset('sql-load-view', 300);
    const q = 'SELECT count(*) AS n, sum(u16) AS s FROM ds';
    const whole = rows(await ds.sql(q));
    const view = ds.filter('u16 > 30000');
    const file = join(oracle.dir, `load-view-${randomBytes(4).toString('hex')}.parquet`);
    await view.toParquet(file);
    await oracle.con.run(`CREATE OR REPLACE VIEW ds AS SELECT * FROM read_parquet('${file}')`);
    const want = plain((await oracle.con.runAndReadAll(q)).getRowObjectsJS());
    expect(rows(await view.sql(q))).toEqual(want);
    expect(rows(await ds.sql(q))).toEqual(whole);
    expect(whole[0].n).toBeGreaterThan(want[0].n as number);
  });

  it('sqlBatches streams the answer in record batches that together equal sql()', async () => {
    await using ds = await dataset('sql-load-stream', 2000);
    const q = 'SELECT name, u16, big, flag FROM ds WHERE u16 IS NOT NULL ORDER BY name NULLS FIRST';
    const whole = rows(await ds.sql(q));
    const streamed: Record<string, unknown>[] = [];
    let batches = 0;
    for await (const b of ds.sqlBatches(q)) {
      batches++;
      expect(b.numRows).toBeLessThanOrEqual(2048);
      for (const r of b.toArray() as { toJSON(): Record<string, unknown> }[]) {
        streamed.push(
          Object.fromEntries(Object.entries(r.toJSON()).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
        );
      }
    }
    expect(whole.length).toBeGreaterThan(4096);
    expect(batches).toBeGreaterThan(2);
    expect(streamed).toEqual(whole);
    // Stopping early ends the query; the next one runs.
    for await (const b of ds.sqlBatches('SELECT * FROM ds')) {
      expect(b.numRows).toBeGreaterThan(0);
      break;
    }
    expect(rows(await ds.sql('SELECT count(*) AS n FROM ds'))).toEqual([{ n: ds.length }]);
    const bad = ds.sqlBatches('SELECT nope FROM ds');
    await expect(bad.next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
