/**
 * `dataset` sources larger than memory: a 20 k-row Strata dataset under a tiny memoryLimitBytes is
 * read as a stream of record batches (several slices), spilled into ≥ 4 entity partitions, and
 * backfills, training sets and materialization give what the in-memory run gives — class labels as
 * names, the synthesized commit-time timestamp column, embeddings included; an empty dataset keeps
 * its columns.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource, type Progress } from '../../src/features/index.js';
import { loadSourceTable, sourceBatches } from '../../src/features/sources/index.js';
import { SqliteOnlineStore, materialize } from '../../src/online/index.js';
import { dumpStore } from '../online/stores.js';

const ROWS = 20_000;
const ENTITIES = 700;
const LABELS = ['cat', 'dog', 'bird', 'fish'];

let dir: string;
let uri: string;
let committedMs: number;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-spill-ds-'));
  uri = path.join(dir, 'items');
  const ds = await Dataset.create(uri, {
    schema: {
      item_id: 'int64',
      label: { htype: 'class_label', classNames: LABELS },
      score: 'float64',
      emb: { htype: 'embedding', dim: 3 },
    },
  });
  // two commits: the rows span fragments
  for (const [lo, hi] of [
    [0, 12_000],
    [12_000, ROWS],
  ]) {
    await ds.append(
      Array.from({ length: hi - lo }, (_, j) => {
        const i = lo + j;
        return {
          item_id: (i * 7919) % ENTITIES,
          label: i % 13 === 0 ? null : LABELS[(i * 31) % LABELS.length],
          score: i % 17 === 0 ? null : ((i * 0.37) % 11) - 3.3,
          emb: [i % 5, 1 / (1 + (i % 7)), -i],
        };
      }),
    );
    await ds.commit(`rows ${lo}-${hi}`);
  }
  committedMs = ds.versionInfo.timestampMs;
  await ds.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const source = () =>
  defineSource({
    name: 'items',
    kind: 'dataset',
    path: uri,
    options: { columns: ['item_id', 'label', 'score', 'emb'] },
  });

function repoOf(memoryLimitBytes?: number) {
  return FeatureRepo.fromDefinitions(
    [
      defineEntity({ name: 'item', joinKeys: ['item_id'] }),
      source(),
      defineFeatureView({ name: 'latest', entities: ['item'], source: 'items', features: ['score', 'label', 'emb'] }),
      defineFeatureView({
        name: 'stats',
        entities: ['item'],
        source: 'items',
        tile: '1h',
        aggregations: [
          { function: 'count', window: '1d' },
          { column: 'score', function: 'sum', window: '1d' },
          { column: 'score', function: 'mean', window: '1d' },
          { column: 'score', function: 'max', window: '1d' },
          { column: 'label', function: 'last', window: '1d', name: 'label_last' },
          { column: 'label', function: 'first', window: 'lifetime', name: 'label_first' },
          { column: 'label', function: 'count_distinct', window: '1d', name: 'labels' },
        ],
      }),
    ],
    memoryLimitBytes ? { memoryLimitBytes, spillDir: dir } : {},
  );
}

type Rec = Record<string, unknown>;
/** A row as plain values (vector cells as arrays). */
const plain = (r: { toJSON(): Rec }): Rec =>
  Object.fromEntries(
    Object.entries(r.toJSON()).map(([k, v]) => [
      k,
      v !== null && typeof v === 'object' && 'toArray' in v
        ? Array.from((v as A.Vector).toArray() as ArrayLike<unknown>)
        : v,
    ]),
  );
const records = (t: A.Table): Rec[] => t.toArray().map(plain);

describe('spill: dataset sources', () => {
  it('streams record batches with the columns and types of the whole table', async () => {
    const src = (await repoOf()).source('items');
    const whole = await loadSourceTable(src, { dir });
    const batches: A.RecordBatch[] = [];
    for await (const b of sourceBatches(src, { dir })!) batches.push(b);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    const streamed = new A.Table(batches);
    const types = (t: A.Table) => t.schema.fields.map((f) => `${f.name}:${String(f.type)}`);
    expect(types(streamed)).toEqual(types(whole));
    expect(types(whole)).toContain('event_timestamp:Timestamp<MILLISECOND>');
    expect(String(whole.schema.fields.find((f) => f.name === 'label')!.type)).toBe('Utf8');
    expect(streamed.numRows).toBe(ROWS);
    const some = [0, 1, 13, 8191, 8192, 12_000, ROWS - 1];
    for (const i of some) expect(plain(streamed.get(i)!)).toEqual(plain(whole.get(i)!));
    expect(whole.get(0)!.toJSON().event_timestamp).toBe(committedMs);
  });

  it('an empty dataset reads as no rows with its columns, whole and streamed', async () => {
    const emptyUri = path.join(dir, 'empty');
    const ds = await Dataset.create(emptyUri, { schema: { item_id: 'int64', label: { htype: 'class_label' } } });
    await ds.commit('empty');
    await ds.close();
    const repo = await FeatureRepo.fromDefinitions([
      defineEntity({ name: 'item', joinKeys: ['item_id'] }),
      defineSource({ name: 'none', kind: 'dataset', path: emptyUri }),
      defineFeatureView({ name: 'labels', entities: ['item'], source: 'none', features: ['label'] }),
    ]);
    const want = ['item_id:Int64', 'label:Utf8', 'event_timestamp:Timestamp<MILLISECOND>'];
    const whole = await loadSourceTable(repo.source('none'), { dir });
    expect([whole.numRows, whole.schema.fields.map((f) => `${f.name}:${String(f.type)}`)]).toEqual([0, want]);
    const batches: A.RecordBatch[] = [];
    for await (const b of sourceBatches(repo.source('none'), { dir })!) batches.push(b);
    expect(batches.map((b) => [b.numRows, b.schema.fields.map((f) => `${f.name}:${String(f.type)}`)])).toEqual([
      [0, want],
    ]);
  });

  it('backfill and training sets over the limit equal the in-memory run', async () => {
    const whole = await repoOf();
    const limit = 64 << 10;
    const parts = await repoOf(limit);
    const progress: Progress[] = [];
    const tiles = await parts.backfill('stats', { onProgress: (p) => progress.push(p) });
    const partitions = progress.find((p) => p.phase === 'spill stats' && p.unit === 'partitions')?.total ?? 0;
    expect(partitions).toBeGreaterThanOrEqual(4);
    expect(progress.filter((p) => p.phase === 'spill').length).toBeGreaterThanOrEqual(3);
    expect(progress.filter((p) => p.phase === 'spill').at(-1)!.done).toBe(ROWS);
    const want = await whole.backfill('stats');
    expect(want.numRows).toBe(ENTITIES);
    expect(records(tiles)).toEqual(records(want));

    const rows = Array.from({ length: 50 }, (_, i) => ({
      item_id: (i * 37) % (ENTITIES + 5),
      event_timestamp: new Date(committedMs + (i % 3 === 0 ? -1000 : 1000)),
    }));
    const features = ['latest:score', 'latest:label', 'stats:label_last', 'stats:score_sum_1d'];
    const a = await whole.getHistoricalFeatures(rows, { features }).toArray();
    const b = await parts.getHistoricalFeatures(rows, { features }).toArray();
    expect(b).toEqual(a);
    expect(a.filter((r) => r.label !== null).length).toBeGreaterThan(10);
  });

  it('materialize over the limit writes the in-memory run’s online values', async () => {
    const range = { start: new Date(committedMs - 60_000), end: new Date(committedMs + 60_000), statistics: false };
    const dump = async (repo: FeatureRepo, name: string) => {
      const store = await SqliteOnlineStore.open(path.join(dir, name, 'online.sqlite'));
      await materialize(repo, store, range);
      const out = (await dumpStore(store, ['latest', 'stats'])) as Record<string, unknown[]>;
      await store.close();
      return out;
    };
    const want = await dump(await repoOf(), 'whole');
    expect(want.latest.length).toBe(ENTITIES);
    expect(await dump(await repoOf(64 << 10), 'parts')).toEqual(want);
  });
});
