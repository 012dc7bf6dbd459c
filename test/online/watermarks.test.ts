/**
 * Per-view watermarks of the online stores (SQLite, Redis, Redis Cluster): the newest event time and
 * the latest write time, raised by writes (never lowered by older events), reset by deleteView/clear,
 * and seeded from the rows when an older SQLite file is opened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecord } from '../../src/online/codec.js';
import { SqliteOnlineStore } from '../../src/online/index.js';
import { storeKinds } from './stores.js';

const row = (view: string, id: number, ts: number) => ({
  view,
  entityKey: { id },
  values: { x: id },
  eventTimestampMs: ts,
});

describe.each(storeKinds())('$name watermarks', (kind) => {
  it.skipIf(kind.skip)('track the newest event and the latest write per view', async () => {
    const { store } = await kind.open();
    try {
      expect(await store.watermarks()).toEqual([]);
      const before = Date.now();
      await store.write([row('a', 1, 1000), row('a', 2, 3000), row('b', 1, 500)]);
      const after = Date.now();
      let wm = await store.watermarks();
      expect(wm.map((w) => [w.view, w.eventTimestampMs])).toEqual([
        ['a', 3000],
        ['b', 500],
      ]);
      for (const w of wm) {
        expect(w.writtenAtMs).toBeGreaterThanOrEqual(before);
        expect(w.writtenAtMs).toBeLessThanOrEqual(after);
      }
      // an older event for a new entity does not lower the event watermark
      await store.write([row('a', 3, 2000)]);
      wm = await store.watermarks(['a']);
      expect(wm).toHaveLength(1);
      expect(wm[0].eventTimestampMs).toBe(3000);
      await store.write([row('a', 3, 9000)]);
      expect((await store.watermarks(['a']))[0].eventTimestampMs).toBe(9000);
      await store.deleteView('a');
      expect((await store.watermarks()).map((w) => w.view)).toEqual(['b']);
      await store.clear();
      expect(await store.watermarks()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite watermarks of an older file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-wm-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are seeded from the stored rows on open', async () => {
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.exec(`CREATE TABLE online_rows (view TEXT NOT NULL, ek TEXT NOT NULL, ts REAL NOT NULL, wt REAL,
      val BLOB NOT NULL, UNIQUE (view, ek)); CREATE TABLE online_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    const ins = old.prepare('INSERT INTO online_rows VALUES (?, ?, ?, ?, ?)');
    ins.run('v', 'id=i:1', 5, 100, encodeRecord({ x: 1 }));
    ins.run('v', 'id=i:2', 7, 90, encodeRecord({ x: 2 }));
    ins.run('w', 'id=i:1', 3, null, encodeRecord({ x: 3 }));
    old.close();
    await using store = await SqliteOnlineStore.open(path);
    expect(await store.watermarks()).toEqual([
      { view: 'v', eventTimestampMs: 7, writtenAtMs: 100 },
      { view: 'w', eventTimestampMs: 3, writtenAtMs: 0 },
    ]);
  });
});
