import { describe, expect, it } from 'vitest';
import { whereConjuncts } from '../../src/interop/sql/where.js';
import { useDuckDB } from '../helpers/duckdb.js';

const oracle = useDuckDB();

async function where(query: string) {
  const r = await oracle.con.runAndReadAll(`SELECT json_serialize_sql('${query.replaceAll("'", "''")}')`);
  return whereConjuncts(r.getRowsJS()[0][0] as string);
}

describe('WHERE conjuncts from DuckDB parse trees (pushdown input)', () => {
  it('col op literal, literal op col, IN, BETWEEN, IS [NOT] NULL, decimals and negatives', async () => {
    const w = await where(
      `SELECT * FROM ds WHERE label = 'cat' AND score > 0.5 AND 10 >= width AND x IN (1, 2, 3)
         AND h BETWEEN 2 AND 7.25 AND note IS NULL AND tag IS NOT NULL AND y <> -3 AND ds.z <= 4`,
    );
    expect(w).toEqual({
      table: 'ds',
      conjuncts: [
        { column: 'label', op: '=', value: 'cat' },
        { column: 'score', op: '>', value: 0.5 },
        { column: 'width', op: '<=', value: 10 },
        { column: 'x', op: 'in', values: [1, 2, 3] },
        { column: 'h', op: 'between', low: 2, high: 7.25 },
        { column: 'note', op: 'is null' },
        { column: 'tag', op: 'is not null' },
        { column: 'y', op: '!=', value: -3 },
        { column: 'z', op: '<=', value: 4 },
      ],
    });
  });

  it('leaves out what is not a simple conjunct (OR, functions, column vs column) and non-table sources', async () => {
    const w = await where(
      `SELECT * FROM ds WHERE (a = 1 OR b = 2) AND lower(s) = 'x' AND a < b AND c IN (1, d) AND e >= 5`,
    );
    expect(w).toEqual({ table: 'ds', conjuncts: [{ column: 'e', op: '>=', value: 5 }] });
    expect(await where('SELECT * FROM ds a JOIN o b ON a.x = b.x WHERE a.y = 1')).toEqual({
      table: null,
      conjuncts: [],
    });
    expect(await where('SELECT 1')).toEqual({ table: null, conjuncts: [] });
    expect((await where('SELECT * FROM ds')).conjuncts).toEqual([]);
  });
});

describe('WHERE pushdown into ds.sql', () => {
  it('a selective WHERE on a clustered column reads few of its chunks; answers equal the unpushed query', async () => {
    const { Dataset } = await import('../../src/dataset/dataset.js');
    const { MemoryStorage } = await import('../../src/storage/memory.js');
    const { CountingStorage } = await import('../helpers/counting-storage.js');
    const name = `sql-pushdown-${Date.now()}`;
    const n = 200_000;
    const writer = await Dataset.create(`memory://${name}`, {
      schema: { t: 'float64', k: 'int32', label: 'text' },
      chunkSizeBytes: 16 * 1024,
    });
    await writer.extend({
      t: Array.from({ length: n }, (_, i) => i),
      k: Array.from({ length: n }, (_, i) => (i * 7919) % 1000),
      label: Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]),
    });
    await writer.commit('rows');
    await writer.close();
    const storage = new CountingStorage(new MemoryStorage(name));
    const ds = await Dataset.open(`memory://${name}`, { storage });
    const chunks = (await ds.columnStats('t')).chunks;
    const q =
      "SELECT label, count(*) AS n, sum(k) AS s FROM ds WHERE t >= 1000 AND t < 2000 AND label = 'b' GROUP BY label";
    const got = (await ds.sql(q)).toArray().map((r: object) => ({ ...r }));
    const read = new Set(storage.chunkReads([ds.columnInfo('t').id])).size;
    expect(chunks).toBeGreaterThan(50);
    expect(read / chunks).toBeLessThanOrEqual(0.05);
    // the same query with terms no pushdown takes (computed): DuckDB alone filters a whole copy
    const all = await Dataset.open(`memory://${name}`);
    const unpushed =
      "SELECT label, count(*) AS n, sum(k) AS s FROM ds WHERE t + 0 >= 1000 AND t + 0 < 2000 AND label || '' = 'b' GROUP BY label";
    const want = (await all.sql(unpushed)).toArray().map((r: object) => ({ ...r }));
    expect(got).toEqual(want);
    expect(got).toEqual([{ label: 'b', n: 334n, s: expect.anything() as unknown }]);
    await ds.close();
    await all.close();
  }, 120_000);
});
