/**
 * A feature view over a Strata dataset's columns (the `dataset` source kind): embeddings keyed by an
 * id column, point-in-time by the version's commit time, materialized and served like any feature.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { FeatureRepo } from '../../src/features/repo.js';
import {
  SqliteOnlineStore,
  defaultOnlineStorePath,
  getOnlineFeatures,
  materialize,
  searchOnline,
} from '../../src/online/index.js';

describe('dataset sources', () => {
  let dir: string;
  let repo: FeatureRepo;
  let store: SqliteOnlineStore;
  let committedMs: number;
  const vec = (i: number) => [i, 1, -i, 0.5];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-ds-source-'));
    const uri = join(dir, 'images');
    const ds = await Dataset.create(uri, {
      schema: { item_id: 'int64', label: { htype: 'class_label' }, emb: { htype: 'embedding', dim: 4 } },
    });
    await ds.append(
      Array.from({ length: 6 }, (_, i) => ({ item_id: i + 1, label: i % 2 ? 'odd' : 'even', emb: vec(i + 1) })),
    );
    await ds.commit('items');
    committedMs = ds.versionInfo.timestampMs;
    await ds.close();
    await mkdir(join(dir, 'features'));
    await writeFile(join(dir, 'strata.yaml'), 'project: shop\n');
    await writeFile(
      join(dir, 'features', 'items.yaml'),
      `entities:
  - name: item
    join_keys: [item_id]
sources:
  - name: item_images
    kind: dataset
    path: ${uri}
    options:
      columns: [item_id, label, emb]
feature_views:
  - name: item_embeddings
    entities: [item]
    source: item_images
    features: [emb, label]
`,
    );
    repo = await FeatureRepo.load(dir);
    store = await SqliteOnlineStore.open(defaultOnlineStorePath(dir));
  });
  afterAll(async () => {
    await store?.close();
    await repo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('joins point-in-time on the commit time: nothing before the version existed', async () => {
    const rows = [
      { item_id: 2, event_timestamp: new Date(committedMs + 1000) },
      { item_id: 3, event_timestamp: new Date(committedMs - 1000) },
      { item_id: 99, event_timestamp: new Date(committedMs + 1000) },
    ];
    const out = await repo
      .getHistoricalFeatures(rows, { features: ['item_embeddings:emb', 'item_embeddings:label'] })
      .toArray();
    expect(Array.from(out[0].emb as ArrayLike<number>)).toEqual(vec(2));
    expect(out[0].label).toBe('odd');
    expect(out[1].emb).toBeNull();
    expect(out[2].emb).toBeNull();
  });

  it('materializes embeddings into the online store, serves them as a tensor and searches them', async () => {
    const end = new Date(committedMs + 60_000);
    await materialize(repo, store, { start: new Date(committedMs - 60_000), end });
    const res = await getOnlineFeatures(repo, store, {
      features: ['item_embeddings:emb'],
      entities: { item_id: [1, 4, 42] },
      nowMs: end.getTime(),
    });
    expect(res.column('emb').statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    const t = res.toTensor({ fill: 0 });
    expect(Array.from(t.data.subarray(0, 8))).toEqual([...vec(1), ...vec(4)]);
    const hits = await searchOnline(repo, store, {
      feature: 'item_embeddings:emb',
      query: vec(5),
      k: 2,
      metric: 'l2',
      nowMs: end.getTime(),
    });
    expect(hits[0].entityKey).toEqual({ item_id: 5 });
    expect(hits[0].distance).toBeCloseTo(0);
  });
});
