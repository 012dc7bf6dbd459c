/**
 * The write script receives each call's rows packed into a lengths string and one blob; these edge cases
 * check the unpacking byte for byte on a single server and on a 3-master Cluster (one call per key).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisOnlineStore } from '../../src/online/index.js';
import type { OnlineWriteRow } from '../../src/online/store.js';
import { REDIS_SKIP, RedisCluster, RedisServer } from '../helpers/redis-server.js';

const suite = REDIS_SKIP ? describe.skip : describe;

const every = Uint8Array.from({ length: 256 }, (_, i) => i);
const manyFields: Record<string, unknown> = {};
for (let i = 0; i < 300; i++) manyFields[`f${i}`] = i % 3 === 0 ? `s${i}` : i * 1.5;

/** Rows that stress the packing: empty strings, every byte value, many fields, separators in names. */
function edgeRows(): OnlineWriteRow[] {
  return [
    { view: 'v', entityKey: { id: 'empty' }, eventTimestampMs: 10, values: { s: '', b: new Uint8Array(0), x: 1 } },
    {
      view: 'v',
      entityKey: { id: 'bytes' },
      eventTimestampMs: 11,
      values: { all: every, rev: every.slice().reverse() },
    },
    { view: 'v', entityKey: { id: 'many' }, eventTimestampMs: 12, values: manyFields },
    {
      view: 'v',
      entityKey: { id: 'a b:{c}\n\0é' },
      eventTimestampMs: 13,
      values: { 'f 1': 'x y', 'f:2': ' ', '': 'unnamed', 'ü {}': '\0 \n', '12 34': 5 },
    },
    { view: 'view with space', entityKey: { id: 'none' }, eventTimestampMs: -5, values: {} },
    { view: 'v', entityKey: { id: 'late' }, eventTimestampMs: 100, values: { x: 'new' } },
  ];
}

async function checkEdges(store: RedisOnlineStore): Promise<void> {
  const rows = edgeRows();
  expect(await store.write(rows)).toEqual({ written: rows.length, skipped: 0 });
  // an older event for one key between newer ones: skipped, and the rows after it still unpack correctly
  const again = await store.write([
    { view: 'v', entityKey: { id: 'late' }, eventTimestampMs: 50, values: { x: 'old', pad: every } },
    { view: 'v', entityKey: { id: 'after' }, eventTimestampMs: 7, values: { y: every } },
  ]);
  expect(again).toEqual({ written: 1, skipped: 1 });
  const [empty, bytes, many, seps, late, after] = await store.read('v', [
    { id: 'empty' },
    { id: 'bytes' },
    { id: 'many' },
    { id: 'a b:{c}\n\0é' },
    { id: 'late' },
    { id: 'after' },
  ]);
  expect(empty?.values.s).toBe('');
  expect(Buffer.from(empty?.values.b as Uint8Array).length).toBe(0);
  expect(empty?.values.x).toBe(1);
  expect(Buffer.from(bytes?.values.all as Uint8Array).equals(Buffer.from(every))).toBe(true);
  expect(Buffer.from(bytes?.values.rev as Uint8Array).equals(Buffer.from(every.slice().reverse()))).toBe(true);
  expect(many).toEqual({ values: manyFields, eventTimestampMs: 12 });
  expect(seps).toEqual({
    values: { 'f 1': 'x y', 'f:2': ' ', '': 'unnamed', 'ü {}': '\0 \n', '12 34': 5 },
    eventTimestampMs: 13,
  });
  expect(late).toEqual({ values: { x: 'new' }, eventTimestampMs: 100 });
  expect(Buffer.from(after?.values.y as Uint8Array).equals(Buffer.from(every))).toBe(true);
  expect(await store.read('view with space', [{ id: 'none' }])).toEqual([{ values: {}, eventTimestampMs: -5 }]);
  const wm = await store.watermarks();
  expect(wm.map((w) => [w.view, w.eventTimestampMs])).toEqual([
    ['v', 100],
    ['view with space', -5],
  ]);
}

suite('Redis online store: packed write arguments', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('edge cases round-trip byte for byte (single server)', async () => {
    await using store = await RedisOnlineStore.open({ url: server.url, project: 'pack' });
    await checkEdges(store);
    // the hash holds exactly the written fields plus _ts and _wt
    const raw = new Redis(server.url);
    try {
      const keys = await raw.keys('pack:v:*');
      expect(keys.length).toBe(6);
      const many = keys.find((k) => k.includes('many'));
      expect(await raw.hlen(many ?? '')).toBe(300 + 2);
    } finally {
      raw.disconnect();
    }
  });

  it('rows spread over several script calls and pipelines keep their order and values', async () => {
    await using store = await RedisOnlineStore.open({ url: server.url, project: 'pack2', writeBatchKeys: 3 });
    const rows: OnlineWriteRow[] = [];
    for (let i = 0; i < 100; i++)
      rows.push({ view: 'w', entityKey: { id: i }, eventTimestampMs: i, values: { a: '', b: every.subarray(i), i } });
    expect(await store.write(rows)).toEqual({ written: 100, skipped: 0 });
    const got = await store.read(
      'w',
      rows.map((r) => r.entityKey),
    );
    got.forEach((rec, i) => {
      expect(rec?.values.i).toBe(i);
      expect(rec?.values.a).toBe('');
      expect(Buffer.from(rec?.values.b as Uint8Array).equals(Buffer.from(every.subarray(i)))).toBe(true);
    });
  });

  it('edge cases round-trip byte for byte (3-master Cluster)', async () => {
    await using cluster = await RedisCluster.start(3);
    await using store = await RedisOnlineStore.open({ clusterNodes: cluster.urls, project: 'packc' });
    await checkEdges(store);
  }, 60_000);
});
