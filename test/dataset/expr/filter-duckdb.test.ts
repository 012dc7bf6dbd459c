import { randomBytes } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../../src/dataset/dataset.js';
import { prng } from '../../../src/random.js';

/**
 * `ds.filter(expression)` keeps exactly the rows DuckDB's WHERE keeps, over random data with nulls,
 * NaN, empty strings and quotes, clustered columns (so chunk pruning is exercised) and deleted rows.
 */
const N = 1500;
/** Includes strings longer than the 64-code-unit stats prefix (chunk max stored as a cut prefix) and astral characters. */
const LONG = 'b'.repeat(64);
const WORDS = ['', 'a', 'ab', 'abc', 'b', "it's", 'b%c', 'zz', 'é', 'Z', `${LONG}c`, `${LONG}a`, LONG, '😀', '\uffff'];
const LABELS = ['cat', 'dog', 'eel'];

interface Row {
  rid: number;
  i: number | null;
  f: number | null;
  s: string | null;
  b: boolean | null;
  label: string | null;
}

function table(seed: number): Row[] {
  const r = prng(seed);
  const maybe = <T>(v: T): T | null => (r() < 0.1 ? null : v);
  return Array.from({ length: N }, (_, rid) => ({
    rid,
    i: maybe(Math.floor(rid / 30) - 25 + Math.floor(r() * 3)),
    f: maybe(r() < 0.03 ? NaN : Math.round((r() * 20 - 10) * 4) / 4),
    s: maybe(rid < N / 2 ? WORDS[Math.floor((rid / N) * 2 * WORDS.length)] : WORDS[Math.floor(r() * WORDS.length)]),
    b: maybe(r() < 0.5),
    label: maybe(LABELS[Math.floor(r() * LABELS.length)]),
  }));
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** A random well-typed boolean expression. */
function expression(r: () => number, depth = 0): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const int = (): number => Math.floor(r() * 60) - 30;
  const num = (): string => pick([String(int()), (r() * 20 - 10).toFixed(2)]);
  const word = (): string => quote(pick(WORDS));
  const cmp = (): string => pick(['=', '!=', '<>', '<', '<=', '>', '>=']);
  if (depth < 2 && r() < 0.45) {
    const a = expression(r, depth + 1);
    const b = expression(r, depth + 1);
    return pick([`(${a}) AND (${b})`, `(${a}) OR (${b})`, `NOT (${a})`, `${a} AND ${b}`, `${a} OR ${b} AND ${b}`]);
  }
  return pick([
    () => `i ${cmp()} ${int()}`,
    () => `${int()} ${cmp()} i`,
    () => `f ${cmp()} ${num()}`,
    () => `s ${cmp()} ${word()}`,
    () => `i BETWEEN ${int()} AND ${int()}`,
    () => `f NOT BETWEEN ${num()} AND ${num()}`,
    () => `s IN (${word()}, ${word()})`,
    () => `i NOT IN (${int()}, ${int()}, NULL)`,
    () => `i IN (${int()}, NULL)`,
    () => `${pick(['i', 'f', 's', 'b', 'label'])} IS ${pick(['', 'NOT '])}NULL`,
    () => `s ${pick(['LIKE', 'NOT LIKE'])} ${quote(pick(['a%', '%b%', '_', '%', 'a_c', "it''s", '']))}`,
    () => `i + f ${cmp()} ${num()}`,
    () => `i * 2 - f / 4 ${cmp()} ${num()}`,
    () => `f / i > ${num()}`,
    () => `-i < ${int()}`,
    () => pick(['b', 'NOT b', 'b = TRUE', 'b <> FALSE', 'b IS NULL', 'b = NULL']),
    () => `label = ${quote(pick(LABELS))}`,
    () => `label IN (${quote(pick(LABELS))}, ${quote(pick(LABELS))})`,
    () => `label > ${quote(pick(LABELS))}`,
    () => pick(['TRUE', 'FALSE', 'NULL', '1 = 1', 'NULL = NULL']),
  ])();
}

let con: DuckDBConnection;
let ds: Dataset;

beforeAll(async () => {
  const rows = table(11);
  ds = await Dataset.create(`memory://filter-duck-${randomBytes(6).toString('hex')}`, {
    schema: { rid: 'int32', i: 'int32', f: 'float64', s: 'text', b: 'bool', label: { htype: 'class_label' } },
    chunkSizeBytes: 256,
  });
  for (let at = 0; at < N; at += 500) {
    const part = rows.slice(at, at + 500);
    await ds.extend({
      rid: part.map((x) => x.rid),
      i: part.map((x) => x.i),
      f: part.map((x) => x.f),
      s: part.map((x) => x.s),
      b: part.map((x) => x.b),
      label: part.map((x) => x.label),
    });
    await ds.commit(`rows ${at}`);
  }
  await ds.delete((row) => (row.rid as number) % 17 === 3);
  await ds.commit('deletes');
  con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  await con.run('CREATE TABLE t(rid INTEGER, i INTEGER, f DOUBLE, s VARCHAR, b BOOLEAN, label VARCHAR)');
  const app = await con.createAppender('t');
  for (const x of rows) {
    if (x.rid % 17 === 3) continue;
    app.appendInteger(x.rid);
    if (x.i === null) app.appendNull();
    else app.appendInteger(x.i);
    if (x.f === null) app.appendNull();
    else app.appendDouble(x.f);
    if (x.s === null) app.appendNull();
    else app.appendVarchar(x.s);
    if (x.b === null) app.appendNull();
    else app.appendBoolean(x.b);
    if (x.label === null) app.appendNull();
    else app.appendVarchar(x.label);
    app.endRow();
  }
  app.closeSync();
});

afterAll(async () => {
  con?.closeSync();
  await ds?.close();
});

async function duckRids(where: string): Promise<number[]> {
  const r = await con.runAndReadAll(`SELECT rid FROM t WHERE ${where} ORDER BY rid`);
  return r.getRowObjectsJS().map((o) => Number(o.rid));
}

describe('filter expressions against DuckDB WHERE', () => {
  it('keep the same rows for 300 random expressions (nulls, NaN, deletes, pruned chunks)', async () => {
    const r = prng(5);
    for (let k = 0; k < 300; k++) {
      const where = expression(r);
      const view = ds.filter(where);
      const got = ((await view.values('rid')) as number[]).sort((a, b) => a - b);
      expect(got, where).toEqual(await duckRids(where));
    }
  });

  it('prunes on clustered columns and still equals DuckDB and the JS predicate', async () => {
    for (const where of ['i BETWEEN 3 AND 4', "s = 'ab'", 'i = -25 OR i IS NULL', "i > 20 AND s <> 'zz'"]) {
      const got = ((await ds.filter(where).values('rid')) as number[]).sort((a, b) => a - b);
      expect(got, where).toEqual(await duckRids(where));
    }
    const js = ds.filter((row) => row.i !== null && (row.i as number) >= 3 && (row.i as number) <= 4);
    expect(await ds.filter('i BETWEEN 3 AND 4').values('rid')).toEqual(await js.values('rid'));
  });

  it('filters a view: the expression sees only the view rows, in the view order', async () => {
    const view = ds.sortBy('rid', { descending: true }).filter('i >= 0');
    const rids = (await view.values('rid')) as number[];
    expect(rids).toEqual((await duckRids('i >= 0')).reverse());
    const sub = view.filter('rid < 1000');
    expect(await sub.values('rid')).toEqual(rids.filter((x) => x < 1000));
  });
});
