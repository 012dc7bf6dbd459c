/** The embedded store keeps write times; a file made before it did gains the column on open. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecord } from '../../src/online/codec.js';
import { SqliteOnlineStore } from '../../src/online/index.js';

describe('SQLite online store write times', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-sqlite-wt-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a file without the write time column opens, reads its old rows with NaN and stamps new ones', async () => {
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.exec(`CREATE TABLE online_rows (view TEXT NOT NULL, ek TEXT NOT NULL, ts REAL NOT NULL, val BLOB NOT NULL,
      UNIQUE (view, ek)); CREATE TABLE online_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    old.prepare('INSERT INTO online_rows VALUES (?, ?, ?, ?)').run('v', 'id=i:1', 5, encodeRecord({ x: 'old' }));
    old.close();
    await using store = await SqliteOnlineStore.open(path);
    expect(await store.read('v', [{ id: 1 }], { withWriteTime: true })).toEqual([
      { values: { x: 'old' }, eventTimestampMs: 5, writtenAtMs: Number.NaN },
    ]);
    const before = Date.now();
    await store.write([{ view: 'v', entityKey: { id: 1 }, values: { x: 'new' }, eventTimestampMs: 6 }]);
    const [got] = await store.read('v', [{ id: 1 }], { withWriteTime: true });
    expect(got?.values).toEqual({ x: 'new' });
    expect(got?.writtenAtMs).toBeGreaterThanOrEqual(before);
  });
});
