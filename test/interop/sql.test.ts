import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { Dataset } from '../../src/dataset/dataset.js';
import type { Progress } from '../../src/progress.js';
import { useDuckDB } from '../helpers/duckdb.js';
import { rng } from '../helpers/random.js';

const mem = () => `memory://sql-${randomBytes(6).toString('hex')}`;
const LABELS = ['cat', 'dog', 'bird', "o'brien"];
const schema = { label: 'text', width: 'int32', score: 'float64', flag: 'bool', big: 'int64' } as const;

const oracle = useDuckDB({ scratch: 'strata-sql-' });

/** A random table with nulls in every column. */
async function randomDataset(seed: string, n: number): Promise<Dataset> {
  const r = rng(seed);
  const maybe = <T>(v: T): T | null => (r() < 0.1 ? null : v);
  const ds = await Dataset.create(mem(), { schema });
  await ds.extend({
    label: Array.from({ length: n }, () => maybe(LABELS[Math.floor(r() * LABELS.length)])),
    width: Array.from({ length: n }, () => maybe(Math.floor(r() * 100) - 10)),
    score: Array.from({ length: n }, () => maybe(Math.round(r() * 1e6) / 1e3)),
    flag: Array.from({ length: n }, () => maybe(r() < 0.5)),
    big: Array.from({ length: n }, () => maybe(BigInt(Math.floor(r() * 1e12)) * 1000n)),
  });
  await ds.commit('random');
  return ds;
}

/** Rows as plain JSON-comparable objects: integers as numbers, floats to 9 significant digits. */
function normalize(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const v = (x: unknown): unknown =>
    typeof x === 'bigint' ? Number(x) : typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(9)) : x;
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, x]) => [k, v(x)])));
}

function arrowRows(t: Table): Record<string, unknown>[] {
  return t.toArray().map((r: { toJSON(): Record<string, unknown> }) => r.toJSON());
}

async function parquetView(name: string, ds: Dataset): Promise<void> {
  const file = join(oracle.dir, `${name}-${randomBytes(4).toString('hex')}.parquet`);
  await ds.toParquet(file);
  await oracle.con.run(`CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet('${file}')`);
}

const QUERIES = [
  `SELECT label, count(*) AS n, sum(width) AS s, avg(score) AS a, min(score) AS lo, max(big) AS hi
     FROM ds GROUP BY label ORDER BY label NULLS LAST`,
  `SELECT * FROM ds WHERE width > 50 AND score IS NOT NULL
     ORDER BY width, score, label NULLS FIRST, flag NULLS FIRST, big NULLS FIRST`,
  `SELECT count(*) AS n, count(score) AS ns, sum(score) AS s, avg(width) AS w, count(DISTINCT label) AS d
     FROM ds WHERE label IN ('cat', 'o''brien')`,
  `SELECT flag, count(*) AS n, sum(big) AS b FROM ds WHERE width BETWEEN 10 AND 60 GROUP BY flag ORDER BY flag NULLS LAST`,
  `SELECT label, flag, max(width) - min(width) AS spread FROM ds WHERE score < 500 OR label IS NULL
     GROUP BY ALL ORDER BY label NULLS LAST, flag NULLS LAST`,
  `SELECT a.label, count(*) AS n, sum(b.score) AS s FROM ds a JOIN other b ON a.width = b.width
     GROUP BY a.label ORDER BY a.label NULLS LAST`,
  `SELECT width, count(*) AS n FROM ds LEFT JOIN other USING (width) GROUP BY width ORDER BY width NULLS FIRST`,
];

describe('ds.sql equals DuckDB over the exported Parquet', () => {
  it.each(['a', 'b', 'c'])('random tables (seed %s), GROUP BY / WHERE / ORDER BY / JOIN / nulls', async (seed) => {
    await using ds = await randomDataset(`sql-${seed}`, 300 + seed.charCodeAt(0));
    await using other = await randomDataset(`sql-other-${seed}`, 120);
    await parquetView('ds', ds);
    await parquetView('other', other);
    for (const q of QUERIES) {
      const want = normalize((await oracle.con.runAndReadAll(q)).getRowObjectsJS());
      const got = normalize(arrowRows(await ds.sql(q, { tables: { other }, batchRows: 64 })));
      expect(got, q).toEqual(want);
      // The cached copy answers the same.
      expect(normalize(arrowRows(await ds.sql(q, { tables: { other }, batchRows: 64 }))), q).toEqual(want);
    }
  });

  it('views: the view rows and columns are the table', async () => {
    await using ds = await randomDataset('sql-view', 200);
    const view = ds.slice(20, 120).select(['label', 'width']);
    await parquetView('ds', view);
    const q = 'SELECT * FROM ds ORDER BY width NULLS FIRST, label NULLS FIRST';
    const got = await view.sql(q);
    expect(got.schema.fields.map((f) => f.name)).toEqual(['label', 'width']);
    expect(normalize(arrowRows(got))).toEqual(normalize((await oracle.con.runAndReadAll(q)).getRowObjectsJS()));
    await expect(view.sql('SELECT score FROM ds')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('after deletes, updates and an append: the live rows of the new version, not a stale cached copy', async () => {
    await using ds = await randomDataset('sql-mutate', 400);
    const q =
      'SELECT label, count(*) AS n, sum(width) AS s, max(score) AS m FROM ds GROUP BY label ORDER BY label NULLS LAST';
    await ds.sql(q, { batchRows: 50 }); // caches version 1
    const ids = await ds.rowIds();
    await ds.delete({ rowIds: Array.from(ids.subarray(0, 400)).filter((_, i) => i % 7 === 3) });
    await ds.commit('delete');
    await ds.update({ rowIds: [ids[0], ids[5]] }, { width: 1000, label: 'updated' });
    await ds.commit('update');
    await ds.append({ label: 'new', width: 1, score: 0.5, flag: true, big: 7n });
    await ds.commit('append');
    await parquetView('ds', ds);
    const want = normalize((await oracle.con.runAndReadAll(q)).getRowObjectsJS());
    expect(normalize(arrowRows(await ds.sql(q, { batchRows: 50 })))).toEqual(want);
    expect(want.find((r) => r.label === 'updated')).toMatchObject({ n: 2, s: 2000 });
  });

  it('a table larger than one batch is copied in several batches', async () => {
    await using ds = await randomDataset('sql-stream', 1000);
    const seen: Progress[] = [];
    const t = await ds.sql('SELECT count(*) AS n, sum(width) AS s FROM ds', {
      batchRows: 100,
      cache: false,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.map((p) => p.done)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    const want = (await ds.values('width')).reduce<number>((a, w) => a + ((w as number | null) ?? 0), 0);
    expect(normalize(arrowRows(t))).toEqual([{ n: 1000, s: want }]);
  });

  it('result column types', async () => {
    await using ds = await randomDataset('sql-types', 50);
    const t = await ds.sql(
      "SELECT label, width, score, flag, big, _rowid, [1.5, 2]::FLOAT[] AS v, {'a': 1} AS st FROM ds LIMIT 1",
    );
    expect(Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]))).toEqual({
      label: 'Utf8',
      width: 'Int32',
      score: 'Float64',
      flag: 'Bool',
      big: 'Int64',
      _rowid: 'Int64',
      v: 'List<Float32>',
      st: 'Struct<{a:Int32}>',
    });
  });

  it('bad queries and table names are typed errors', async () => {
    await using ds = await randomDataset('sql-errors', 10);
    await expect(ds.sql('SELEC 1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.sql('DROP TABLE ds')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.sql('SELECT 1; SELECT 2')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.sql('SELECT nope FROM ds')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ds.sql('SELECT 1', { tables: { ds } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
