/**
 * Property tests of the view verbs: random tables (ints, floats, strings, booleans, nulls) go
 * into a dataset and into DuckDB, and each verb must give what the same SQL gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, count, countDistinct, first, last, max, mean, min, std, sum } from '../../src/index.js';
import { useDuckDB } from '../helpers/duckdb.js';

const WORDS = ['a', 'b', 'cc', 'd'];
const GROUPS = ['x', 'y', 'z'];
const SCHEMA = { id: 'int32', i: 'int32', f: 'float64', s: 'text', b: 'bool', g: 'text' } as const;

type T = {
  id: number;
  i: number | null;
  f: number | null;
  s: string | null;
  b: boolean | null;
  g: string | null;
};

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function table(seed: number): T[] {
  const r = rng(seed);
  const n = seed === 0 ? 0 : 1 + Math.floor(r() * 180);
  const maybe = <V>(v: V, p = 0.2): V | null => (r() < p ? null : v);
  return Array.from({ length: n }, (_, id) => ({
    id,
    i: maybe(Math.floor(r() * 11) - 5),
    f: maybe(Math.round((r() * 200 - 100) * 8) / 8),
    s: maybe(WORDS[Math.floor(r() * WORDS.length)]),
    b: maybe(r() < 0.5),
    g: maybe(GROUPS[Math.floor(r() * GROUPS.length)], 0.1),
  }));
}

const lit = (v: string | number | boolean | null): string =>
  v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : typeof v === 'boolean' ? String(v).toUpperCase() : String(v);

const oracle = useDuckDB({ threads: 1 });

async function sql(query: string): Promise<Record<string, unknown>[]> {
  const rows = (await oracle.con.runAndReadAll(query)).getRowObjectsJS();
  return rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );
}

async function load(seed: number, name: string): Promise<{ ds: Dataset; rows: T[] }> {
  const rows = table(seed);
  await oracle.con.run(
    `CREATE OR REPLACE TABLE ${name} (id INTEGER, i INTEGER, f DOUBLE, s VARCHAR, b BOOLEAN, g VARCHAR)`,
  );
  if (rows.length) {
    const values = rows.map((r) => `(${[r.id, r.i, r.f, r.s, r.b, r.g].map(lit).join(', ')})`).join(', ');
    await oracle.con.run(`INSERT INTO ${name} VALUES ${values}`);
  }
  const ds = await Dataset.create(`memory://verbs-${name}-${Date.now()}`, { schema: SCHEMA });
  await ds.append(rows);
  await ds.commit('random table');
  return { ds: ds as unknown as Dataset, rows };
}

const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7];
const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.id as number);
const idsOf = async (v: Dataset) => (await v.values('id')) as number[];

describe.each(SEEDS)('verbs equal DuckDB on random table %i', (seed) => {
  let ds: Dataset;
  const t = `t${seed}`;
  beforeAll(async () => {
    ({ ds } = await load(seed, t));
  });
  afterAll(async () => {
    await ds?.close();
  });

  it('filter (function and match object) equals WHERE', async () => {
    const a = await ds.filter((r) => r.i !== null && (r.i as number) > 0 && r.s !== 'a').values('id');
    expect(a).toEqual(ids(await sql(`SELECT id FROM ${t} WHERE i > 0 AND s IS DISTINCT FROM 'a' ORDER BY id`)));
    const b = await ds.filter({ g: ['x', 'z'], b: true }).values('id');
    expect(b).toEqual(ids(await sql(`SELECT id FROM ${t} WHERE g IN ('x', 'z') AND b ORDER BY id`)));
    const chained = await ds
      .filter({ b: false })
      .filter((r) => r.f !== null && (r.f as number) < 10)
      .values('id');
    expect(chained).toEqual(ids(await sql(`SELECT id FROM ${t} WHERE NOT b AND f < 10 ORDER BY id`)));
  });

  it('sortBy with several keys equals ORDER BY (nulls last, stable)', async () => {
    const v = ds.sortBy(['g', { column: 'f', descending: true }, 'b']);
    expect(await v.values('id')).toEqual(
      ids(await sql(`SELECT id FROM ${t} ORDER BY g ASC NULLS LAST, f DESC NULLS LAST, b ASC NULLS LAST, id`)),
    );
    const d = ds.sortBy('s', { descending: true });
    expect(await d.values('id')).toEqual(ids(await sql(`SELECT id FROM ${t} ORDER BY s DESC NULLS LAST, id`)));
    expect(await ds.filter({ b: true }).sortBy('i').head(5).values('id')).toEqual(
      ids(await sql(`SELECT id FROM ${t} WHERE b ORDER BY i NULLS LAST, id LIMIT 5`)),
    );
  });

  it('groupBy().agg() equals GROUP BY (nulls ignored, null keys one group)', async () => {
    const got = await ds.groupBy(['g', 'b']).agg({
      n: count(),
      ni: count('i'),
      si: sum('i'),
      mf: mean('f'),
      lo: min('f'),
      hi: max<string>('s'),
      sd: std('f'),
      cd: countDistinct('s'),
      fi: first('i'),
      la: last('i'),
    });
    const want = await sql(`SELECT g, b, count(*) AS n, count(i) AS ni, sum(i) AS si, avg(f) AS mf, min(f) AS lo,
        max(s) AS hi, stddev_samp(f) AS sd, count(DISTINCT s) AS cd,
        first(i ORDER BY id) FILTER (WHERE i IS NOT NULL) AS fi, last(i ORDER BY id) FILTER (WHERE i IS NOT NULL) AS la
      FROM ${t} GROUP BY g, b`);
    const key = (r: Record<string, unknown>) => `${String(r.g)}|${String(r.b)}`;
    expect(got.map(key).sort()).toEqual(want.map(key).sort());
    for (const w of want) {
      const g = got.find((r) => key(r) === key(w))!;
      for (const k of ['n', 'ni', 'si', 'lo', 'hi', 'cd', 'fi', 'la']) expect(g[k as keyof typeof g], k).toEqual(w[k]);
      for (const k of ['mf', 'sd'] as const) {
        if (w[k] === null) expect(g[k], k).toBeNull();
        else expect(g[k], k).toBeCloseTo(w[k] as number, 9);
      }
    }
    const counts = await ds.groupBy('g').count();
    const wc = await sql(`SELECT g AS key, count(*) AS count FROM ${t} GROUP BY g`);
    expect([...counts].sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual(
      wc.sort((a, b) => String(a.key).localeCompare(String(b.key))),
    );
    for (const [k, view] of await ds.groupBy('g').views())
      expect(await view.values('id')).toEqual(
        ids(await sql(`SELECT id FROM ${t} WHERE g IS NOT DISTINCT FROM ${lit(k as string | null)} ORDER BY id`)),
      );
  });

  it('join (left and inner) equals LEFT JOIN / JOIN ... USING', async () => {
    const right = [
      { g: 'x', w: 1.5, tag: 'first' },
      { g: 'x', w: null, tag: 'second' },
      { g: 'z', w: 3, tag: 'zed' },
      { g: null, w: 9, tag: 'null key' },
    ];
    await oracle.con.run(`CREATE OR REPLACE TABLE r${seed} (g VARCHAR, w DOUBLE, tag VARCHAR)`);
    await oracle.con.run(
      `INSERT INTO r${seed} VALUES ${right.map((r) => `(${lit(r.g)}, ${lit(r.w)}, ${lit(r.tag)})`).join(', ')}`,
    );
    const order = (rows: Record<string, unknown>[]) =>
      rows.map((r) => [r.id, r.w, r.tag]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    for (const how of ['left', 'inner'] as const) {
      const got = await ds.join(right, { on: 'g', how }).select(['id', 'w', 'tag']).toArray();
      const want = await sql(`SELECT id, w, tag FROM ${t} ${how === 'left' ? 'LEFT JOIN' : 'JOIN'} r${seed} USING (g)`);
      expect(order(got)).toEqual(order(want));
    }
    // a dataset as the right side, with a key of another name
    const other = await Dataset.create(`memory://verbs-right-${seed}-${Date.now()}`, {
      schema: { key: 'text', w: 'float64', tag: 'text' },
    });
    await other.append(right.map((r) => ({ key: r.g, w: r.w, tag: r.tag })));
    await other.commit('right');
    const viaDs = await ds.join(other, { on: ['g', 'key'], how: 'inner' }).toArray();
    const want = await sql(`SELECT id, w, tag FROM ${t} JOIN r${seed} ON ${t}.g = r${seed}.g`);
    expect(order(viaDs)).toEqual(order(want));
    await other.close();
  });

  it('unique and valueCounts equal DISTINCT and GROUP BY count', async () => {
    const u = await ds.unique('s');
    const wu = (await sql(`SELECT DISTINCT s FROM ${t}`)).map((r) => r.s);
    expect([...u].sort()).toEqual([...wu].sort());
    expect(u).toEqual([...new Set(table(seed).map((r) => r.s))]); // first appearance order
    const vc = await ds.valueCounts('s');
    const wv = await sql(`SELECT s AS key, count(*) AS count FROM ${t} GROUP BY s ORDER BY count DESC, key NULLS LAST`);
    expect(vc.map((c) => c.count)).toEqual(wv.map((c) => c.count));
    expect([...vc].sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual(
      [...wv].sort((a, b) => String(a.key).localeCompare(String(b.key))),
    );
  });

  it('dropNulls and fillNulls equal IS NOT NULL and coalesce', async () => {
    expect(await ds.dropNulls(['i', 's']).values('id')).toEqual(
      ids(await sql(`SELECT id FROM ${t} WHERE i IS NOT NULL AND s IS NOT NULL ORDER BY id`)),
    );
    expect(await ds.dropNulls().values('id')).toEqual(
      ids(
        await sql(
          `SELECT id FROM ${t} WHERE i IS NOT NULL AND f IS NOT NULL AND s IS NOT NULL AND b IS NOT NULL AND g IS NOT NULL ORDER BY id`,
        ),
      ),
    );
    const filled = await ds.fillNulls({ i: 0, s: '?' }).select(['i', 's']).toArray();
    expect(filled).toEqual(await sql(`SELECT coalesce(i, 0) AS i, coalesce(s, '?') AS s FROM ${t} ORDER BY id`));
    // filled values are what later verbs see
    expect(await ds.fillNulls({ i: 0 }).filter({ i: 0 }).values('id')).toEqual(
      ids(await sql(`SELECT id FROM ${t} WHERE coalesce(i, 0) = 0 ORDER BY id`)),
    );
  });

  it('select, drop, rename and withColumn equal the projected SELECT (also through toArrow)', async () => {
    const v = ds
      .select(['id', 'i', 'f', 's'])
      .drop(['f'])
      .rename({ s: 'word' })
      .withColumn('k', (r) => (r.i === null ? null : (r.i as number) * 2 + 1));
    expect(v.columns).toEqual(['id', 'i', 'word', 'k']);
    const want = await sql(`SELECT id, i, s AS word, i * 2 + 1 AS k FROM ${t} ORDER BY id`);
    expect(await v.toArray()).toEqual(want);
    expect(await v.filter((r) => r.word === 'cc').values('k')).toEqual(
      (await sql(`SELECT i * 2 + 1 AS k FROM ${t} WHERE s = 'cc' ORDER BY id`)).map((r) => r.k),
    );
    expect(await v.sortBy([{ column: 'k', descending: true }]).values('id')).toEqual(
      ids(await sql(`SELECT id FROM ${t} ORDER BY i * 2 + 1 DESC NULLS LAST, id`)),
    );
    const arrow = await v.toArrow();
    expect(arrow.schema.fields.map((f) => f.name)).toEqual(['id', 'i', 'word', 'k']);
    const column = (name: string) =>
      Array.from(arrow.getChild(name) ?? [], (x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
    expect(column('k')).toEqual(want.map((r) => r.k));
    expect(column('word')).toEqual(want.map((r) => r.word));
    expect(column('i')).toEqual(want.map((r) => r.i));
  });

  it('withColumn with an expression equals the SELECT expression (nulls in, nulls out)', async () => {
    const exprs = [
      'i * 2 + f',
      'f / i',
      '-i - 1.5',
      '(i + 1) * (f - 2) / 3',
      'i + NULL',
      "s = 'cc'",
      'b AND i > 0',
      'NOT b OR f < 0',
      'i IS NULL',
      "s IN ('a', 'd')",
      'f BETWEEN -10 AND 10',
      "s LIKE 'c%'",
      's',
    ];
    let v: Dataset = ds.select(['id', 'i', 'f', 's', 'b']);
    exprs.forEach((e, k) => (v = v.withColumn(`e${k}`, e)));
    const want = await sql(`SELECT ${exprs.map((e, k) => `${e} AS e${k}`).join(', ')} FROM ${t} ORDER BY id`);
    for (let k = 0; k < exprs.length; k++) {
      expect(await v.values(`e${k}`), exprs[k]).toEqual(want.map((r) => r[`e${k}`]));
    }
    const rows = await v.toArray();
    expect(rows.map((r) => r.e0)).toEqual(want.map((r) => r.e0));
    if (rows.length > 2) expect(await v.row(2)).toMatchObject({ e5: want[2].e5, e0: want[2].e0 });

    // Expression columns feed later expressions, filters and sorts; renamed columns are visible.
    const w = ds
      .rename({ f: 'g2' })
      .withColumn('area', 'i * g2')
      .withColumn('twice', 'area * 2')
      .withColumn('pos', 'twice > 0');
    expect(await w.values('twice')).toEqual((await sql(`SELECT i * f * 2 AS x FROM ${t} ORDER BY id`)).map((r) => r.x));
    expect(await w.filter((r) => r.pos === true).values('id')).toEqual(
      ids(await sql(`SELECT id FROM ${t} WHERE i * f * 2 > 0 ORDER BY id`)),
    );
    expect(await w.sortBy([{ column: 'area', descending: true }]).values('id')).toEqual(
      ids(await sql(`SELECT id FROM ${t} ORDER BY i * f DESC NULLS LAST, id`)),
    );
    const arrow = await w.select(['id', 'area', 'pos']).toArrow();
    expect(arrow.schema.fields.map((f) => String(f.type))).toEqual(['Int32', 'Float64', 'Bool']);
    expect(Array.from(arrow.getChild('pos') ?? [])).toEqual(await w.values('pos'));
  });

  it('withColumn rejects bad expressions with INVALID_ARGUMENT naming the column', () => {
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(thrown(() => ds.withColumn('x', 'nope + 1'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { column: 'nope', expression: 'nope + 1' },
    });
    expect(thrown(() => ds.withColumn('x', 'i +'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { column: 'x' },
    });
    expect(thrown(() => ds.withColumn('x', 's * 2'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(thrown(() => ds.withColumn('k', (r) => r.i).withColumn('x', 'k + 1'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { column: 'k' },
    });
  });

  it('concat equals UNION ALL', async () => {
    const a = ds.filter({ b: true });
    const b = ds.filter({ b: false }).sortBy('f');
    expect(await a.concat(b, ds.head(3)).values('id')).toEqual(
      ids(
        await sql(`(SELECT id, 0 AS part, id AS o FROM ${t} WHERE b)
          UNION ALL (SELECT id, 1, row_number() OVER (ORDER BY f NULLS LAST, id) FROM ${t} WHERE NOT b)
          UNION ALL (SELECT id, 2, id FROM ${t} WHERE id < 3) ORDER BY part, o`),
      ),
    );
  });

  it('sample draws distinct rows without replacement, deterministic with a seed', async () => {
    const n = (await sql(`SELECT count(*) AS n FROM ${t}`))[0].n as number;
    const k = Math.floor(n / 3);
    const s1 = await idsOf(ds.sample(k, { seed: 7 }));
    expect(s1).toHaveLength(k);
    expect(new Set(s1).size).toBe(k);
    expect([...s1].sort((x, y) => x - y)).toEqual(s1); // view order kept
    expect(await ds.sample(k, { seed: 7 }).values('id')).toEqual(s1);
    expect(await ds.sample({ fraction: 0.25 }, { seed: 3 }).count()).toBe(Math.round(n * 0.25));
    const onFiltered = await idsOf(ds.filter({ b: true }).sample({ fraction: 0.5 }, { seed: 1 }));
    const pool = new Set(ids(await sql(`SELECT id FROM ${t} WHERE b`)));
    expect(onFiltered.every((id) => pool.has(id))).toBe(true);
    expect(onFiltered).toHaveLength(Math.round(pool.size * 0.5));
    expect(() => ds.sample(n + 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('split: disjoint parts covering the view, sizes by fraction, deterministic, stratified proportions', async () => {
    const n = (await sql(`SELECT count(*) AS n FROM ${t}`))[0].n as number;
    const { train, val, test } = ds.split({ train: 0.7, val: 0.2, test: 0.1 }, { seed: 5 });
    const parts = [await idsOf(train), await idsOf(val), await idsOf(test)];
    expect(parts.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(Math.abs(parts[0].length - 0.7 * n)).toBeLessThan(1);
    expect(Math.abs(parts[1].length - 0.2 * n)).toBeLessThan(1);
    const again = ds.split({ train: 0.7, val: 0.2, test: 0.1 }, { seed: 5 });
    expect(await again.train.values('id')).toEqual(parts[0]);
    const strat = ds.split({ train: 0.8, val: 0.2 }, { seed: 9, stratifyBy: 'g' });
    const trainIds = await idsOf(strat.train);
    const valIds = await idsOf(strat.val);
    expect(trainIds.filter((id) => valIds.includes(id))).toEqual([]);
    expect(trainIds.length + valIds.length).toBe(n);
    await oracle.con.run(
      `CREATE OR REPLACE TABLE tr${seed} AS SELECT * FROM ${t} WHERE id IN (${[-1, ...trainIds].join(', ')})`,
    );
    const per =
      await sql(`SELECT g, count(*) AS n, (SELECT count(*) FROM tr${seed} WHERE tr${seed}.g IS NOT DISTINCT FROM a.g) AS k
      FROM ${t} a GROUP BY g`);
    for (const p of per) expect(Math.abs((p.k as number) - 0.8 * (p.n as number)), String(p.g)).toBeLessThan(1);
  });
});
