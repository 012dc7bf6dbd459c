/**
 * readTable over real files: CSV edge cases, JSON Lines, Parquet written by DuckDB, Arrow IPC
 * written by apache-arrow; batches bounded by batchRows and produced before the file is read whole.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/storage/memory.js';
import {
  CsvTokenizer,
  collectTable,
  csvRows,
  readTable,
  readTableFile,
  type ReadTableOptions,
} from '../../src/tables/index.js';

let dir: string;
const enc = new TextEncoder();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'strata-tables-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function store(files: Record<string, string | Uint8Array>): Promise<MemoryStorage> {
  const s = new MemoryStorage();
  for (const [k, v] of Object.entries(files)) await s.put(k, typeof v === 'string' ? enc.encode(v) : v);
  return s;
}

async function rowsOf(s: MemoryStorage, key: string, options?: ReadTableOptions): Promise<Record<string, unknown>[]> {
  return (await collectTable(readTable(s, key, options))).toArray().map((r: A.StructRowProxy) => r.toJSON());
}

async function typesOf(s: MemoryStorage, key: string, options?: ReadTableOptions): Promise<Record<string, string>> {
  const t = await collectTable(readTable(s, key, options));
  return Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
}

async function duck(sql: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(sql);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('CSV', () => {
  const text =
    '\ufeffid,name,score,ok,at,note\r\n' +
    '9007199254740993,"Smith, J.",1.5,true,2024-01-02T03:04:05Z,"line one\nline ""two"""\r\n' +
    '\r\n' +
    '-2,plain,2,FALSE,2024-01-03,\r\n' +
    '3,,,,,last';

  it('parses quotes, embedded newlines, CRLF, a BOM and blank lines; types columns exactly', async () => {
    const s = await store({ 't.csv': text });
    expect(await typesOf(s, 't.csv')).toEqual({
      id: 'Int64',
      name: 'Utf8',
      score: 'Float64',
      ok: 'Bool',
      at: 'Timestamp<MILLISECOND>',
      note: 'Utf8',
    });
    const rows = await rowsOf(s, 't.csv');
    expect(rows.map((r) => r.id)).toEqual([9007199254740993n, -2n, 3n]);
    expect(rows.map((r) => r.name)).toEqual(['Smith, J.', 'plain', null]);
    expect(rows.map((r) => r.ok)).toEqual([true, false, null]);
    expect(rows.map((r) => r.at)).toEqual([Date.parse('2024-01-02T03:04:05Z'), Date.parse('2024-01-03'), null]);
    expect(rows[0].note).toBe('line one\nline "two"');
    // infer: 'none' keeps the cells as written; a schema declares a column
    const raw = await rowsOf(s, 't.csv', { infer: 'none', schema: { score: 'float32' } });
    expect(raw[2]).toEqual({ id: '3', name: '', score: null, ok: '', at: '', note: 'last' });
  });

  it('gives the same rows whatever the pieces the text arrives in', () => {
    const whole = csvRows(text, 't.csv');
    const t = new CsvTokenizer('t.csv');
    const pieces = [...text].flatMap((ch) => t.push(ch));
    expect([...pieces, ...t.end()]).toEqual(whole);
    expect(whole.map((r) => r.line)).toEqual([1, 2, 5, 6]);
  });

  it('names the file, line and column of bad input', async () => {
    const s = await store({
      'wide.csv': 'a,b\n1,2\n"x\ny",2,3\n',
      'open.csv': 'a,b\n1,"2\n',
      'late.csv': 'a,b\n1,x\n2,y\nthree,z\n',
      'empty.csv': '',
    });
    await expect(rowsOf(s, 'wide.csv')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { file: 'wide.csv', line: 3 },
    });
    await expect(rowsOf(s, 'open.csv')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { file: 'open.csv', line: 2 },
    });
    // typed from the first two rows (int64); the third does not fit
    await expect(rowsOf(s, 'late.csv', { inferRows: 2 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { file: 'late.csv', line: 4, column: 'a' },
    });
    expect((await rowsOf(s, 'late.csv')).map((r) => r.a)).toEqual(['1', '2', 'three']);
    await expect(rowsOf(s, 'empty.csv')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(rowsOf(s, 'missing.csv')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(rowsOf(s, 'data.xlsx')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('a value that does not convert to its declared type is an error naming its line, in or after the first rows', async () => {
    const s = await store({
      'typed.csv': 'n,x,ok,at\n1,0.5,true,2024-01-01\n2,,no,\n3,1e3,0,2024-01-02T10:00:00Z\n',
      'n.csv': 'n\n1\n2\nabc\n',
      'frac.csv': 'n\n1\n1.5\n',
      'x.csv': 'x\n0.5\noops\n',
      'ok.csv': 'ok\ntrue\nmaybe\n',
      'at.csv': 'at\n2024-01-01\nyesterday\n',
      'wide.csv': 'n\n1\n3000000000\n',
      'late.csv': `n\n${'1\n'.repeat(50)}x\n`,
      'typed.jsonl': '{"n": 1, "v": [1, 2]}\n{"n": "two", "v": [1]}\n',
      'vec.jsonl': '{"v": [1, 2]}\n{"v": ["a"]}\n',
    });
    const schema = { n: 'int32', x: 'float64', ok: 'bool', at: 'timestamp' } as const;
    expect(await rowsOf(s, 'typed.csv', { schema })).toEqual([
      { n: 1, x: 0.5, ok: true, at: Date.parse('2024-01-01') },
      { n: 2, x: null, ok: false, at: null },
      { n: 3, x: 1000, ok: false, at: Date.parse('2024-01-02T10:00:00Z') },
    ]);
    for (const [file, line, column] of [
      ['n.csv', 4, 'n'],
      ['frac.csv', 3, 'n'],
      ['x.csv', 3, 'x'],
      ['ok.csv', 3, 'ok'],
      ['at.csv', 3, 'at'],
      ['wide.csv', 3, 'n'],
      ['late.csv', 52, 'n'],
    ] as const) {
      for (const inferRows of [2, 1000])
        await expect(rowsOf(s, file, { schema, inferRows }), `${file} inferRows ${inferRows}`).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          details: { file, line, column },
        });
    }
    await expect(rowsOf(s, 'typed.jsonl', { schema: { n: 'int64' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { line: 2, column: 'n' },
    });
    await expect(rowsOf(s, 'vec.jsonl', { schema: { v: 'list<float32>' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { line: 2, column: 'v' },
    });
  });

  it('a header without rows is one empty batch with the columns', async () => {
    const s = await store({ 'h.csv': 'a,b\n' });
    const batches = [];
    for await (const b of readTable(s, 'h.csv')) batches.push(b);
    expect(batches.length).toBe(1);
    expect(batches[0].numRows).toBe(0);
    expect(batches[0].schema.fields.map((f) => f.name)).toEqual(['a', 'b']);
  });
});

describe('bounded memory', () => {
  it('reads a large CSV in batches of at most batchRows, the first before the file is read whole', async () => {
    const n = 100_000;
    const lines = ['k,v,s'];
    for (let i = 0; i < n; i++) lines.push(`${i},${i / 4},"s${i % 7}, x"`);
    const bytes = enc.encode(lines.join('\n'));
    const s = await store({ 'big.csv': bytes });
    const batchRows = 1000;
    let seen = 0;
    let batches = 0;
    let readAtFirst = -1;
    for await (const b of readTable(s, 'big.csv', { batchRows, chunkBytes: 16 * 1024 })) {
      if (batches === 0) readAtFirst = s.stats.bytesRead;
      expect(b.numRows).toBeLessThanOrEqual(batchRows);
      expect(b.getChild('k')!.get(0)).toBe(BigInt(seen));
      seen += b.numRows;
      batches++;
    }
    expect(seen).toBe(n);
    expect(batches).toBe(n / batchRows);
    expect(readAtFirst).toBeGreaterThan(0);
    expect(readAtFirst).toBeLessThan(bytes.byteLength / 10);
  });
});

describe('JSON Lines', () => {
  const text = [
    '{"id": 1, "x": 0.5, "tags": ["a", "b"], "meta": {"k": 1}, "at": "2024-01-02T00:00:00Z", "ok": true}',
    '',
    '{"id": 2, "x": 1, "tags": [], "meta": null, "at": "2024-01-03T00:00:00Z"}\r',
  ].join('\n');

  it('types values; objects become JSON text; missing keys are null', async () => {
    const s = await store({ 't.jsonl': text });
    expect(await typesOf(s, 't.jsonl')).toEqual({
      id: 'Int64',
      x: 'Float64',
      tags: 'List<Utf8>',
      meta: 'Utf8',
      at: 'Timestamp<MILLISECOND>',
      ok: 'Bool',
    });
    const rows = await rowsOf(s, 't.jsonl');
    expect(rows.map((r) => r.id)).toEqual([1n, 2n]);
    expect(rows.map((r) => r.meta)).toEqual(['{"k":1}', null]);
    expect(rows.map((r) => r.ok)).toEqual([true, null]);
  });

  it("infer: 'none' gives arrow.json columns that parse back to the values written", async () => {
    const s = await store({ 't.jsonl': text });
    const t = await collectTable(readTable(s, 't.jsonl', { infer: 'none' }));
    expect(t.schema.fields[0].metadata.get('ARROW:extension:name')).toBe('arrow.json');
    expect(JSON.parse(t.getChild('meta')!.get(0) as string)).toEqual({ k: 1 });
    expect(JSON.parse(t.getChild('tags')!.get(1) as string)).toEqual([]);
  });

  it('names the line of bad JSON, and a value that does not fit its column', async () => {
    const s = await store({
      'bad.jsonl': '{"a": 1}\n{"a": \n',
      'arr.jsonl': '{"a": 1}\n[1]\n',
      'late.jsonl': '{"a": 1}\n{"a": 1.5}\n',
      'new.jsonl': '{"a": 1}\n{"b": 2}\n',
    });
    await expect(rowsOf(s, 'bad.jsonl')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { line: 2 } });
    await expect(rowsOf(s, 'arr.jsonl')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { line: 2 } });
    await expect(rowsOf(s, 'late.jsonl', { inferRows: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { line: 2, column: 'a' },
    });
    await expect(rowsOf(s, 'new.jsonl', { inferRows: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { line: 2, column: 'b' },
    });
    expect(await rowsOf(s, 'new.jsonl')).toEqual([
      { a: 1n, b: null },
      { a: null, b: 2n },
    ]);
  });
});

describe('Parquet written by DuckDB', () => {
  it('reads int64 and microsecond timestamps exactly, row group by row group', async () => {
    const file = path.join(dir, 'duck.parquet');
    await duck(
      `COPY (SELECT i AS n, 9007199254740993 + i AS big, 'r' || i AS name, i / 4 AS x, i % 2 = 0 AS even,
         TIMESTAMP '2024-01-02 03:04:05.123456' + to_microseconds(i) AS at,
         CASE WHEN i = 1 THEN NULL ELSE [i, i + 1] END AS xs
       FROM range(2500) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`,
    );
    const s = await store({ 'duck.parquet': new Uint8Array(await readFile(file)) });
    const batches: A.RecordBatch[] = [];
    for await (const b of readTable(s, 'duck.parquet', { batchRows: 700 })) batches.push(b);
    expect(batches.every((b) => b.numRows <= 700)).toBe(true);
    const t = new A.Table(batches);
    expect(t.numRows).toBe(2500);
    expect(String(t.schema.fields.find((f) => f.name === 'at')!.type)).toBe('Timestamp<MICROSECOND>');
    const row = (i: number) => t.get(i)!.toJSON();
    expect(row(3).big).toBe(9007199254740996n);
    expect(row(3).name).toBe('r3');
    expect(row(3).x).toBe(0.75);
    expect(row(3).even).toBe(false);
    expect(row(1).xs).toBeNull();
    // DuckDB writes lists as LIST groups, which read as JSON text
    expect(t.schema.fields.find((f) => f.name === 'xs')!.metadata.get('ARROW:extension:name')).toBe('arrow.json');
    expect(JSON.parse(row(2).xs as string)).toEqual([2, 3]);
    const at = t.getChild('at')!.data[0].values as BigInt64Array;
    expect(at[3]).toBe(BigInt(Date.parse('2024-01-02T03:04:05.123Z')) * 1000n + 456n + 3n);
    // declared: the timestamp in milliseconds, and as its exact microseconds
    const declared = await collectTable(readTableFile(file, { schema: { at: 'timestamp', big: 'float64' } }));
    expect(declared.get(3)!.toJSON().at).toBe(Date.parse('2024-01-02T03:04:05.123Z'));
    const s2 = await store({ 'x.parquet': enc.encode('not parquet at all') });
    await expect(collectTable(readTable(s2, 'x.parquet'))).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});

describe('Arrow IPC written by apache-arrow', () => {
  it('reads the file and the stream format batch by batch', async () => {
    const part = (ids: bigint[], s: string[]) =>
      new A.Table({ id: A.vectorFromArray(ids, new A.Int64()), s: A.vectorFromArray(s, new A.Utf8()) });
    const a = part([1n, 2n ** 60n], ['x', 'y']);
    const b = part([3n], ['z']);
    const t = new A.Table([...a.batches, ...b.batches]);
    const s = await store({ 'f.arrow': A.tableToIPC(t, 'file'), 's.arrows': A.tableToIPC(t, 'stream') });
    for (const key of ['f.arrow', 's.arrows']) {
      const batches: A.RecordBatch[] = [];
      for await (const batch of readTable(s, key)) batches.push(batch);
      expect(
        batches.map((x) => x.numRows),
        key,
      ).toEqual([2, 1]);
      expect(new A.Table(batches).toArray().map((r: A.StructRowProxy) => r.toJSON())).toEqual([
        { id: 1n, s: 'x' },
        { id: 2n ** 60n, s: 'y' },
        { id: 3n, s: 'z' },
      ]);
    }
    const bad = await store({ 'b.arrow': enc.encode('ARROW1 but not really') });
    await expect(collectTable(readTable(bad, 'b.arrow'))).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});
