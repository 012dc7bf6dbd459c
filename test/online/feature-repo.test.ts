/** Integration: a real YAML feature repository (src/features) materialized, read, pushed and served. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureRepo } from '../../src/features/repo.js';
import {
  getOnlineFeatures,
  materialize,
  pushToOnline,
  SqliteOnlineStore,
  defaultOnlineStorePath,
} from '../../src/online/index.js';
import { createFeatureServer } from '../../src/serve/index.js';

const FEATURES_YAML = `
entities:
  - name: driver
    join_keys: [driver_id]
sources:
  - name: trips
    kind: csv
    path: trips.csv
  - name: trips_push
    kind: push
    schema:
      driver_id: int64
      event_timestamp: timestamp
      conv_rate: float64
feature_views:
  - name: driver_stats
    entities: [driver]
    source: trips
    ttl: 1d
    features: [conv_rate, trips]
  - name: driver_trips_1h
    entities: [driver]
    source: trips
    aggregations:
      - column: trips
        function: sum
        window: 1h
        name: trips_1h
  - name: driver_live
    entities: [driver]
    source: trips_push
    features: [conv_rate]
feature_services:
  - name: ranker
    features: [driver_stats, "driver_trips_1h:trips_1h"]
`;

const TRIPS_CSV = `driver_id,event_timestamp,conv_rate,trips
1,2024-01-01T00:00:00Z,0.5,3
1,2024-01-01T00:30:00Z,0.6,2
2,2024-01-01T00:10:00Z,0.7,1
`;

const END = new Date('2024-01-01T00:45:00Z');

describe('online layer on a real FeatureRepo (YAML)', () => {
  let dir: string;
  let repo: FeatureRepo;
  let store: SqliteOnlineStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-online-repo-'));
    await mkdir(join(dir, 'features'));
    await writeFile(join(dir, 'strata.yaml'), 'project: rides\n');
    await writeFile(join(dir, 'features', 'drivers.yaml'), FEATURES_YAML);
    await writeFile(join(dir, 'trips.csv'), TRIPS_CSV);
    repo = await FeatureRepo.load(dir);
    store = await SqliteOnlineStore.open(defaultOnlineStorePath(dir));
  });
  afterAll(async () => {
    await store?.close();
    await repo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('materializes latest values and window aggregates, serves them with statuses and ttl', async () => {
    const r = await materialize(repo, store, { start: new Date('2023-12-31T00:00:00Z'), end: END });
    expect(r.views.map((v) => v.view)).toEqual(expect.arrayContaining(['driver_stats', 'driver_trips_1h']));
    const res = await getOnlineFeatures(repo, store, {
      featureService: 'ranker',
      entities: { driver_id: [1, 2, 3] },
      nowMs: END.getTime(),
    });
    expect(res.columns.map((c) => c.name)).toEqual(['conv_rate', 'trips', 'trips_1h']);
    expect(res.column('conv_rate').values).toEqual([0.6, 0.7, null]);
    expect(res.column('conv_rate').statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    expect(res.column('trips').values.map((v) => (v === null ? null : Number(v)))).toEqual([2, 1, null]);
    expect(res.column('trips_1h').values.slice(0, 2).map(Number)).toEqual([5, 1]); // trips in the hour up to 00:45
    expect(res.column('trips_1h').statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    expect(res.column('conv_rate').eventTimestampsMs[0]).toBe(Date.parse('2024-01-01T00:30:00Z'));
    // Two days later the plain view's 1-day ttl has passed.
    const later = await getOnlineFeatures(repo, store, {
      features: ['driver_stats:conv_rate'],
      entities: { driver_id: [1] },
      nowMs: END.getTime() + 2 * 86_400_000,
    });
    expect(later.column('conv_rate').statuses).toEqual(['OUTSIDE_MAX_AGE']);
  });

  it('pushes through the engine into the store and serves over HTTP', async () => {
    const pushed = await pushToOnline(repo, store, 'trips_push', [
      { driver_id: 1, event_timestamp: '2024-01-01T00:50:00Z', conv_rate: 0.9 },
    ]);
    expect(pushed.written).toBeGreaterThan(0);
    await using server = await createFeatureServer(repo, store, { token: '' });
    const res = await fetch(server.url + '/get-online-features', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        features: ['driver_live:conv_rate', 'driver_stats:conv_rate'],
        entities: { driver_id: [1] },
        full_feature_names: true,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      metadata: { feature_names: string[] };
      results: { values: unknown[]; statuses: string[] }[];
    };
    expect(body.metadata.feature_names).toEqual(['driver_id', 'driver_live__conv_rate', 'driver_stats__conv_rate']);
    expect(body.results[1]).toMatchObject({ values: [0.9], statuses: ['PRESENT'] });
  });

  it('/push checks values against the push schema: a list on a float64 column is 400 naming the field', async () => {
    await using server = await createFeatureServer(repo, store, { token: '' });
    const res = await fetch(server.url + '/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        push_source_name: 'trips_push',
        df: { driver_id: [2], event_timestamp: ['2024-01-01T00:55:00Z'], conv_rate: [['lots']] },
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; field: string } };
    expect(body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'conv_rate' });
    // nothing was applied: driver 2 has no live value
    const live = await getOnlineFeatures(repo, store, {
      features: ['driver_live:conv_rate'],
      entities: { driver_id: [2] },
    });
    expect(live.column('conv_rate').statuses).toEqual(['NOT_FOUND']);
  });
});
