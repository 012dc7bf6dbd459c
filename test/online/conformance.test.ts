/** One suite, every online store: the same tests against embedded SQLite and a real redis-server. */
import { describe, expect, it } from 'vitest';
import type { OnlineStore, OnlineWriteRow } from '../../src/online/index.js';
import { storeKinds } from './stores.js';

const kinds = storeKinds();

describe.each(kinds)('online store conformance: $name', (kind) => {
  const maybe = kind.skip ? it.skip : it;
  if (kind.skip) console.warn(`skipping ${kind.name} conformance: ${kind.skip}`);

  async function withStore(fn: (store: OnlineStore) => Promise<void>): Promise<void> {
    const { store } = await kind.open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  const row = (user_id: unknown, values: Record<string, unknown>, ts: number, view = 'v'): OnlineWriteRow => ({
    view,
    entityKey: { user_id },
    values,
    eventTimestampMs: ts,
  });

  maybe('round-trips every dtype, null included', () =>
    withStore(async (store) => {
      const emb = new Float32Array(512);
      for (let i = 0; i < 512; i++) emb[i] = Math.fround(Math.sin(i) * 1e3);
      const values = {
        nothing: null,
        yes: true,
        no: false,
        f64: 0.1 + 0.2,
        negzero: -0,
        inf: -Infinity,
        nan: Number.NaN,
        i64max: 9223372036854775807n,
        i64min: -9223372036854775808n,
        small: 42n,
        str: 'héllo, wörld 🌍',
        empty: '',
        emb,
        f64vec: Float64Array.from([1.5, -2.25, 1e300]),
        i32vec: Int32Array.from([1, -2, 2147483647]),
        i64vec: BigInt64Array.from([1n, -(2n ** 63n)]),
        bytes: Uint8Array.from([0, 1, 255]),
        when: new Date('2024-02-29T12:34:56.789Z'),
        list: ['a', 'b'],
        obj: { nested: [1, 2, { x: null }] },
      };
      const r = await store.write([row(1, values, 1000)]);
      expect(r).toEqual({ written: 1, skipped: 0 });
      const [got] = await store.read('v', [{ user_id: 1 }]);
      expect(got?.eventTimestampMs).toBe(1000);
      expect(got?.values).toEqual(values);
      expect(Object.is(got?.values.negzero, -0)).toBe(true);
      expect(got?.values.emb).toBeInstanceOf(Float32Array);
      expect(got?.values.i64max).toBe(9223372036854775807n);
      expect(got?.values.when).toBeInstanceOf(Date);
    }),
  );

  maybe('reads a subset of features and leaves out unstored ones', () =>
    withStore(async (store) => {
      await store.write([row('u1', { a: 1, b: 'x', c: null }, 5)]);
      const [got] = await store.read('v', [{ user_id: 'u1' }], { features: ['b', 'c', 'zzz'] });
      expect(got?.values).toEqual({ b: 'x', c: null });
    }),
  );

  maybe('an older event never overwrites a newer value; a newer one does', () =>
    withStore(async (store) => {
      await store.write([row(7, { x: 'new' }, 2000)]);
      expect(await store.write([row(7, { x: 'old' }, 1000)])).toEqual({ written: 0, skipped: 1 });
      expect((await store.read('v', [{ user_id: 7 }]))[0]).toEqual({ values: { x: 'new' }, eventTimestampMs: 2000 });
      // out of order inside one batch: the newest wins whatever the order
      await store.write([row(8, { x: 'b' }, 20), row(8, { x: 'c' }, 30), row(8, { x: 'a' }, 10)]);
      expect((await store.read('v', [{ user_id: 8 }]))[0]?.values.x).toBe('c');
      await store.write([row(7, { x: 'newer', y: 1 }, 3000)]);
      expect((await store.read('v', [{ user_id: 7 }]))[0]).toEqual({
        values: { x: 'newer', y: 1 },
        eventTimestampMs: 3000,
      });
    }),
  );

  maybe('rewriting the same batch is idempotent', () =>
    withStore(async (store) => {
      const batch = [row(1, { x: 1 }, 10), row(2, { x: 2 }, 20), row(3, { x: null }, 30)];
      await store.write(batch);
      const first = await store.read('v', [{ user_id: 1 }, { user_id: 2 }, { user_id: 3 }]);
      const again = await store.write(batch);
      expect(again.written + again.skipped).toBe(3);
      expect(await store.read('v', [{ user_id: 1 }, { user_id: 2 }, { user_id: 3 }])).toEqual(first);
    }),
  );

  maybe('writes and reads many keys in order, null for missing ones', () =>
    withStore(async (store) => {
      const n = 3000;
      const rows = Array.from({ length: n }, (_, i) => row(i, { i, emb: Float32Array.from([i, -i]) }, 1000 + i));
      expect((await store.write(rows)).written).toBe(n);
      const keys = Array.from({ length: n + 10 }, (_, i) => ({ user_id: n + 10 - 1 - i }));
      const got = await store.read('v', keys);
      expect(got).toHaveLength(n + 10);
      got.forEach((g, j) => {
        const id = n + 10 - 1 - j;
        if (id >= n) expect(g).toBeNull();
        else expect(g).toEqual({ values: { i: id, emb: Float32Array.from([id, -id]) }, eventTimestampMs: 1000 + id });
      });
      let scanned = 0;
      for await (const b of store.scan('v', { batchRows: 700 })) scanned += b.length;
      expect(scanned).toBe(n);
    }),
  );

  maybe('missing keys, unknown views and empty reads', () =>
    withStore(async (store) => {
      expect(await store.read('nope', [{ user_id: 1 }])).toEqual([null]);
      expect(await store.read('v', [])).toEqual([]);
      await store.write([row(1, { x: 1 }, 1)]);
      expect(await store.read('v', [{ user_id: 2 }, { user_id: 1 }])).toEqual([
        null,
        { values: { x: 1 }, eventTimestampMs: 1 },
      ]);
      expect(await store.read('other', [{ user_id: 1 }])).toEqual([null]);
    }),
  );

  maybe('entity keys: multi-column in any order, number and bigint alike, strings with separators', () =>
    withStore(async (store) => {
      await store.write([
        { view: 'p', entityKey: { user_id: 1, item_id: 'a,b=c}{' }, values: { n: 1 }, eventTimestampMs: 1 },
        { view: 'p', entityKey: { user_id: 2n ** 62n, item_id: 'x' }, values: { n: 2 }, eventTimestampMs: 1 },
      ]);
      const got = await store.read('p', [
        { item_id: 'a,b=c}{', user_id: 1n },
        { user_id: 2n ** 62n, item_id: 'x' },
        { user_id: 1, item_id: 'a' },
      ]);
      expect(got.map((g) => g?.values.n ?? null)).toEqual([1, 2, null]);
      const keys: unknown[] = [];
      for await (const b of store.scan('p')) for (const r of b) keys.push(r.entityKey);
      expect(keys).toContainEqual({ user_id: 1, item_id: 'a,b=c}{' });
      expect(keys).toContainEqual({ user_id: 2n ** 62n, item_id: 'x' });
    }),
  );

  maybe('rejects bad timestamps and entity keys with INVALID_ARGUMENT', () =>
    withStore(async (store) => {
      await expect(store.write([row(1, { x: 1 }, Number.NaN)])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.write([row(null, { x: 1 }, 1)])).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'user_id' },
      });
      await expect(store.read('v', [{}])).resolves.toBeDefined(); // an empty key is a (never written) key
    }),
  );

  maybe('every row carries its write time, read back with withWriteTime (read, feature subset, scan)', () =>
    withStore(async (store) => {
      const before = Date.now();
      await store.write([row(1, { x: 1, y: 'a' }, 5000), row(2, { x: 2, y: 'b' }, 6000)]);
      const after = Date.now();
      const plain = await store.read('v', [{ user_id: 1 }]);
      expect(plain).toEqual([{ values: { x: 1, y: 'a' }, eventTimestampMs: 5000 }]);
      expect(plain[0]).not.toHaveProperty('writtenAtMs');
      for (const features of [undefined, ['x']]) {
        const got = await store.read('v', [{ user_id: 1 }, { user_id: 3 }, { user_id: 2 }], {
          features,
          withWriteTime: true,
        });
        expect(got[1]).toBeNull();
        expect(got[0]?.values).toEqual(features ? { x: 1 } : { x: 1, y: 'a' });
        expect(got[2]?.eventTimestampMs).toBe(6000);
        for (const g of [got[0], got[2]]) {
          expect(g?.writtenAtMs).toBeGreaterThanOrEqual(before);
          expect(g?.writtenAtMs).toBeLessThanOrEqual(after);
        }
      }
      const first = (await store.read('v', [{ user_id: 1 }], { withWriteTime: true }))[0]!.writtenAtMs!;
      while (Date.now() <= first) await new Promise((r) => setTimeout(r, 2));
      // an older event is skipped and keeps the row's write time; a newer one stamps a later one
      await store.write([row(1, { x: 0, y: 'old' }, 4000)]);
      expect((await store.read('v', [{ user_id: 1 }], { withWriteTime: true }))[0]?.writtenAtMs).toBe(first);
      await store.write([row(1, { x: 3, y: 'new' }, 7000)]);
      expect((await store.read('v', [{ user_id: 1 }], { withWriteTime: true }))[0]?.writtenAtMs).toBeGreaterThan(first);
      const scanned = [];
      for await (const b of store.scan('v', { withWriteTime: true })) scanned.push(...b);
      expect(scanned).toHaveLength(2);
      for (const r of scanned) {
        expect(Object.keys(r.values).sort()).toEqual(['x', 'y']);
        expect(r.writtenAtMs).toBeGreaterThanOrEqual(before);
      }
      const plainScan = [];
      for await (const b of store.scan('v')) plainScan.push(...b);
      expect(plainScan[0]).not.toHaveProperty('writtenAtMs');
    }),
  );

  maybe('deleteView, clear and state', () =>
    withStore(async (store) => {
      await store.write([row(1, { x: 1 }, 1, 'a'), row(1, { x: 2 }, 1, 'b')]);
      await store.setState('view:a:materialized_end_ms', '123');
      await store.setState('view:b:materialized_end_ms', '456');
      expect(await store.getState('view:a:materialized_end_ms')).toBe('123');
      expect(await store.getState('missing')).toBeUndefined();
      await store.deleteView('a');
      expect(await store.read('a', [{ user_id: 1 }])).toEqual([null]);
      expect(await store.getState('view:a:materialized_end_ms')).toBeUndefined();
      expect((await store.read('b', [{ user_id: 1 }]))[0]?.values.x).toBe(2);
      expect(await store.getState('view:b:materialized_end_ms')).toBe('456');
      await store.clear();
      expect(await store.read('b', [{ user_id: 1 }])).toEqual([null]);
      expect(await store.getState('view:b:materialized_end_ms')).toBeUndefined();
    }),
  );

  maybe('health, idempotent close, closed store is UNAVAILABLE', async () => {
    const { store } = await kind.open();
    expect(await store.health()).toMatchObject({ ok: true, kind: store.kind });
    expect(kind.name.startsWith(store.kind)).toBe(true);
    await store.close();
    await store.close();
    await store[Symbol.asyncDispose]();
    await expect(store.read('v', [{ user_id: 1 }])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await store.health()).ok).toBe(false);
  });

  maybe('two handles on the same store see each other', async () => {
    const a = await kind.open();
    const b = await kind.open(a.id);
    try {
      await a.store.write([row(1, { x: 'from a' }, 1)]);
      expect((await b.store.read('v', [{ user_id: 1 }]))[0]?.values.x).toBe('from a');
    } finally {
      await a.store.close();
      await b.store.close();
    }
  });
});
