/**
 * CSV and JSONL sources in bounded memory: a 3 M-row CSV (~120 MB) read by a child `node` whose JS
 * heap is smaller than the file's text, its peak RSS bounded by the parsed columns' size; the
 * two-pass reading (types over every row, then batches) gives the same table as holding every row,
 * across chunk boundaries (quotes, CRLF); bad rows name the file and line.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsvFile, readJsonlFile } from '../../src/features/sources/index.js';
import { collectTable, readTableFile } from '../../src/tables/read.js';
import { childEnv } from '../helpers/child-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-csv-bounded-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `n` rows of user_id,ts,amount,note; every 7th note quoted with a comma and doubled quotes. */
async function writeCsv(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('user_id,ts,amount,note\n');
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += `${i % 100_000},${new Date(t0 + i * 1000).toISOString()},${(i % 1000) / 4},${i % 7 === 0 ? '"a, ""b"""' : 'x'}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end(buf, () => resolve()).once('error', reject));
}

interface ChildOut {
  rows: number;
  columnBytes: number;
  maxRssBytes: number;
}

async function child(mode: string, file: string, nodeArgs: string[] = []): Promise<ChildOut> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', path.join(import.meta.dirname, 'csv-rss-child.ts'), mode, file],
    { cwd: path.resolve('.'), env: childEnv(), maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildOut;
}

function rowsOf(t: A.Table): unknown[] {
  return t.toArray().map((r) => (r as { toJSON(): unknown }).toJSON());
}

describe('CSV sources in bounded memory', () => {
  it('a 3 M-row CSV reads with a JS heap smaller than its text; peak RSS stays within the columns', async () => {
    const file = path.join(dir, 'big.csv');
    await writeCsv(file, 3_000_000);
    const heap = ['--max-old-space-size=96', '--max-semi-space-size=8']; // old and young generation both bounded
    const idle = await child('idle', file);
    const whole = await child('whole', file);
    // holding the text whole does not fit the heap the streaming read runs in
    await expect(child('whole', file, heap)).rejects.toThrow();
    const stream = await child('stream', file, heap);
    expect(stream.rows).toBe(3_000_000);
    const textBytes = whole.maxRssBytes - idle.maxRssBytes;
    expect(textBytes).toBeGreaterThan(100 << 20);
    // the table itself plus one batch in flight and the collector's slack: not the text
    expect(stream.maxRssBytes - idle.maxRssBytes).toBeLessThan(2 * stream.columnBytes + (64 << 20));
  }, 600_000);

  it('two passes give the table holding every row gives, across quotes and CRLF split by chunks', async () => {
    const file = path.join(dir, 'split.csv');
    const lines = ['id,v,note,when'];
    for (let i = 0; i < 300; i++)
      lines.push(`${i},${i % 3 === 0 ? '' : i / 2},"q ""${i}""\r\nnext, line",2024-01-0${(i % 9) + 1}T00:00:00Z`);
    lines.push('300,abc,"",2024-02-01');
    await writeFile(file, `\ufeff${lines.join('\r\n')}\r\n`);
    const held = await collectTable(readTableFile(file, { format: 'csv', inferRows: 1e9, schema: { id: 'int64' } }));
    for (const chunkBytes of [1, 2, 3, 7, 64, 1 << 20]) {
      const t = await collectTable(
        readTableFile(file, { format: 'csv', inferRows: Infinity, schema: { id: 'int64' }, chunkBytes, batchRows: 50 }),
      );
      expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(
        held.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
      );
      expect(rowsOf(t)).toEqual(rowsOf(held));
    }
    const src = await readCsvFile(file, { id: 'int64' });
    expect(rowsOf(src)).toEqual(rowsOf(held));
    // v holds 'abc' on the last line: inferred over every row, the column is text
    expect(String(src.schema.fields.find((f) => f.name === 'v')!.type)).toBe('Utf8');
    expect(src.getChild('note')!.get(1)).toBe('q "1"\r\nnext, line');
  });

  it('JSONL types over every row in two passes, as holding every row does', async () => {
    const file = path.join(dir, 'ev.jsonl');
    const rows = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ k: i, v: i / 2, ...(i > 150 ? { late: 's' } : {}) }),
    );
    await writeFile(file, `${rows.join('\r\n')}\n\n`);
    const held = await collectTable(readTableFile(file, { format: 'jsonl', inferRows: 1e9 }));
    const t = await readJsonlFile(file);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['k', 'v', 'late']);
    expect(rowsOf(t)).toEqual(rowsOf(held));
  });

  it('a bad row on line N is an error naming the file and line N', async () => {
    const csv = path.join(dir, 'bad.csv');
    const body = Array.from({ length: 70_000 }, (_, i) => `${i},x`);
    body[69_000] = '69000,x,extra';
    await writeFile(csv, `k,v\n${body.join('\n')}\n`);
    const err = await readCsvFile(csv, { k: 'int64' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { file: 'bad.csv', line: 69_002 } });

    const quote = path.join(dir, 'quote.csv');
    await writeFile(quote, 'k,v\n1,a\n2,"open\n3,b\n');
    await expect(readCsvFile(quote)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { line: 3 } });

    const jsonl = path.join(dir, 'bad.jsonl');
    await writeFile(jsonl, `${'{"k":1}\n'.repeat(5000)}{"k":\n{"k":2}\n`);
    await expect(readJsonlFile(jsonl)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { file: 'bad.jsonl', line: 5001 },
    });
  });
});
