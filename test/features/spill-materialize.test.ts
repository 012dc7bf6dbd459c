/**
 * Materialization larger than memory: with a memoryLimitBytes far below the source, `latestValues`
 * runs over ≥ 4 entity partitions spilled to disk, and materialize leaves a SQLite online store
 * exactly as the in-memory run does — plain views and every aggregation function, whole and as
 * P = 3 shards, over a whole range and a partial one; spill files are removed, also on an early stop.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource, type Progress } from '../../src/features/index.js';
import { SqliteOnlineStore, materialize, type MaterializeOptions } from '../../src/online/index.js';
import { ALL_AGGS, eventsTable } from './_fixtures.js';
import { generate } from './_oracle.js';
import { dumpStore } from '../online/stores.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-spill-mat-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const VIEWS = ['plain', 'aggs'];

/** Bytes of a table's buffers (what the repo estimates a table source at). */
function tableBytes(t: A.Table): number {
  let bytes = 0;
  for (const b of t.batches)
    for (const d of b.data.children)
      for (const buf of [d.values, d.valueOffsets, d.nullBitmap])
        bytes += (buf as ArrayBufferView | undefined)?.byteLength ?? 0;
  return bytes;
}

function repoOf(table: A.Table, options: { memoryLimitBytes?: number; spillDir?: string } = {}) {
  return FeatureRepo.fromDefinitions(
    [
      defineEntity({ name: 'ent', joinKeys: ['k'] }),
      defineSource({ name: 'ev', kind: 'table', table, createdTimestampField: 'cr' }),
      defineFeatureView({ name: 'plain', entities: ['ent'], source: 'ev', features: ['v', 's'] }),
      defineFeatureView({ name: 'aggs', entities: ['ent'], source: 'ev', aggregations: ALL_AGGS, tile: '15m' }),
    ],
    options,
  );
}

async function run(repo: FeatureRepo, options: Omit<MaterializeOptions, 'statistics'>, shards = 0) {
  const store = await SqliteOnlineStore.open(path.join(dir, `s${n++}`, 'online.sqlite'));
  const progress: Progress[] = [];
  const onProgress = (p: Progress) => progress.push(p);
  if (shards === 0) await materialize(repo, store, { ...options, statistics: false, onProgress });
  for (let index = 0; index < shards; index++)
    await materialize(repo, store, { ...options, statistics: false, onProgress, shard: { index, count: shards } });
  const rows = (await dumpStore(store, VIEWS)) as Record<string, unknown[]>;
  await store.close();
  const partitions = progress.find((p) => p.phase.startsWith('spill ') && p.unit === 'partitions')?.total ?? 0;
  return { rows, partitions };
}

describe('spill: materialize larger than memory', () => {
  for (const stringKeys of [false, true]) {
    it(`online values equal the in-memory run's (${stringKeys ? 'string' : 'int'} keys)`, async () => {
      const { events } = generate({ seed: 91, stringKeys, events: 4000, entities: 300 });
      const table = eventsTable(events, stringKeys);
      const times = events.map((e) => e.ts).sort((a, b) => a - b);
      const ranges = [
        { start: new Date(times[0]), end: new Date(times.at(-1)! + 3_600_000) },
        {
          start: new Date(times[Math.floor(times.length * 0.2)]),
          end: new Date(times[Math.floor(times.length * 0.6)]),
        },
      ];
      const spillDir = await mkdtemp(path.join(dir, 'spill-'));
      const whole = await repoOf(table);
      const parts = await repoOf(table, { memoryLimitBytes: Math.floor((tableBytes(table) * 3) / 6), spillDir });
      for (const range of ranges) {
        const want = await run(whole, range);
        expect(want.partitions).toBe(0);
        expect(want.rows.plain.length).toBeGreaterThan(100);
        expect(want.rows.aggs.length).toBeGreaterThan(100);
        const got = await run(parts, range);
        expect(got.partitions).toBeGreaterThanOrEqual(4);
        expect(got.rows).toEqual(want.rows);
        const sharded = await run(parts, range, 3);
        expect(sharded.rows).toEqual(want.rows);
      }
      expect(await readdir(spillDir)).toEqual([]);
    });
  }

  it('latestValues yields every entity once; stopping early removes the spill files', async () => {
    const { events } = generate({ seed: 92, events: 3000, entities: 200 });
    const table = eventsTable(events);
    const spillDir = await mkdtemp(path.join(dir, 'stop-'));
    const repo = await repoOf(table, { memoryLimitBytes: 4096, spillDir });
    const end = new Date(Math.max(...events.map((e) => e.ts)) + 1);
    const keys: unknown[] = [];
    const seen: Progress[] = [];
    for await (const b of repo.latestValues('aggs', { end, onProgress: (p) => seen.push(p) }))
      keys.push(...b.entityKeys.map((k) => k.k));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(new Set(events.filter((e) => e.k !== null).map((e) => e.k)).size);
    const last = seen.filter((p) => p.phase === 'aggs').at(-1)!;
    expect([last.done, last.total]).toEqual([keys.length, keys.length]);
    for await (const b of repo.latestValues('plain', { end })) {
      expect(b.entityKeys.length).toBeGreaterThan(0);
      expect((await readdir(spillDir)).length).toBe(1);
      break;
    }
    expect(await readdir(spillDir)).toEqual([]);
  });
});
