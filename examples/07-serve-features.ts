/**
 * Serve feature vectors over HTTP: materialize into the embedded online store (SQLite), start the
 * Feast-compatible feature server, and query it like a Feast client would (get-online-features,
 * push, search over an embedding feature, health, metrics).
 *
 *   npx tsx examples/07-serve-features.ts
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FeatureRepo, createFeatureServer, materialize, openOnlineStore } from '../src/index.js';
import { check, run, sampleData, workspace } from './_shared.js';

/** Feast's response layout: one column per feature (what this example reads of it). */
interface FeastResponse {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[] }[];
}

const STRATA_YAML = `project: shop
entities:
  - { name: user, join_keys: [user_id] }
sources:
  - { name: events, kind: csv, path: events.csv, id_field: event_id }
  - name: live_events            # events pushed at run time, on top of the file's history
    kind: push
    batch_source: events
    id_field: event_id
    schema: { event_id: string, user_id: string, event_timestamp: timestamp, event_type: string, item_path: string, amount: float64 }
feature_views:
  - name: user_activity
    entities: [user]
    source: live_events
    aggregations:
      - { function: count, window: 1d, name: events_1d }
      - { column: amount, function: sum, window: 1d, where: "event_type = 'purchase'", name: spend_1d }
  - name: user_profile
    entities: [user]
    source: events
    features: [event_type, item_path]
feature_services:
  - { name: ranker, features: [user_activity, user_profile:event_type] }
`;

run('07-serve-features', async () => {
  const ws = await workspace('07-serve-features');
  try {
    const sample = await sampleData(ws.dir, { images: 6, videos: 0, events: 2000 });
    const dir = join(ws.dir, 'feature_repo');
    await mkdir(dir, { recursive: true });
    await copyFile(join(sample, 'events.csv'), join(dir, 'events.csv'));
    await writeFile(join(dir, 'strata.yaml'), STRATA_YAML);

    await using repo = await FeatureRepo.load(dir);
    await repo.apply();
    const store = await openOnlineStore(dir); // embedded SQLite at <dir>/.strata/online.sqlite; { type: 'redis', url } for Redis
    const m = await materialize(repo, store, {
      start: new Date('2024-01-01T00:00:00Z'),
      end: new Date('2024-01-04T00:00:00Z'),
    });
    console.log(`materialized: ${m.views.map((v) => `${v.view} ${v.written} rows`).join(', ')}`);

    await using server = await createFeatureServer(repo, store, { port: 0 }); // 127.0.0.1, any free port
    console.log(`feature server on ${server.url}`);
    const post = async (path: string, body: unknown): Promise<FeastResponse> => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as FeastResponse;
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    // Feast's request and response layout: one column per feature.
    const req = { feature_service: 'ranker', entities: { user_id: ['u001', 'u002', 'nobody'] } };
    console.log(
      `\ncurl -s ${server.url}/get-online-features -H 'content-type: application/json' -d '${JSON.stringify(req)}'`,
    );
    const res = await post('/get-online-features', req);
    res.metadata.feature_names.forEach((name, i) =>
      console.log(
        `  ${name.padEnd(12)} ${JSON.stringify(res.results[i].values)}  ${JSON.stringify(res.results[i].statuses)}`,
      ),
    );
    check(res.results[3].statuses[2] === 'NOT_FOUND', 'an unknown user is NOT_FOUND');

    // Push a live event (newer than the history; late events beyond the allowed lateness are dropped):
    // the window aggregates update through the same engine that computed the batch values.
    const before = res.results[1].values[0] as number;
    const pushed = await post('/push', {
      push_source_name: 'live_events',
      df: {
        event_id: ['live-1'],
        user_id: ['u001'],
        event_timestamp: ['2024-01-04T00:00:00Z'],
        event_type: ['purchase'],
        item_path: ['images/circle/circle_000.jpg'],
        amount: [99.5],
      },
    });
    console.log(`\npush: ${JSON.stringify(pushed)}`);
    const after = await post('/get-online-features', {
      features: ['user_activity:events_1d', 'user_activity:spend_1d'],
      entities: { user_id: ['u001'] },
    });
    console.log(
      `\nafter a pushed purchase: events_1d ${before} → ${String(after.results[1].values[0])}, spend_1d → ${String(after.results[2].values[0])}`,
    );
    check(after.results[1].values[0] === before + 1, 'the pushed event counts');

    const health = await (await fetch(`${server.url}/health`)).json();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    console.log(
      `health: ${JSON.stringify(health)}; metrics: ${metrics.split('\n').filter((l) => l.startsWith('strata_')).length} series`,
    );
    await server.close();
    await store.close();
  } finally {
    await ws.cleanup();
  }
});
