/**
 * Define window features in YAML (strata.yaml), validate and apply them, and build a
 * point-in-time-correct training set: each row gets the features as of its own timestamp, with
 * nothing after it leaking in.
 *
 *   npx tsx examples/06-window-features.ts
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FeatureRepo } from '../src/index.js';
import { check, run, sampleData, workspace } from './_shared.js';

const STRATA_YAML = `project: shop
entities:
  - name: user
    join_keys: [user_id]
    value_type: string
sources:
  - name: events
    kind: csv
    path: events.csv          # event_id, user_id, event_timestamp, event_type, item_path, amount
    id_field: event_id
feature_views:
  - name: user_activity       # sliding windows ending at each row's timestamp
    entities: [user]
    source: events
    aggregations:
      - { function: count, window: 30m, name: events_30m }
      - { function: count, window: 1d, where: "event_type = 'click'", name: clicks_1d }
      - { column: amount, function: sum, window: 1d, where: "event_type = 'purchase'", name: spend_1d }
      - { column: amount, function: max, window: lifetime, name: max_purchase }
      - { column: item_path, function: count_distinct, window: 6h, name: items_6h }
      - { column: event_type, function: last_n, n: 3, window: lifetime, name: last_3_types }
  - name: user_hourly         # hopping: 1 h windows every 15 min
    entities: [user]
    source: events
    aggregations:
      - { column: amount, function: mean, window: 1h, hop: 15m, name: mean_amount_1h }
  - name: user_last_event     # plain view: latest value per user, valid for 12 h
    entities: [user]
    source: events
    ttl: 12h
    features: [event_type]
feature_services:
  - name: churn_model
    features: [user_activity, user_hourly, user_last_event]
`;

run('06-window-features', async () => {
  const ws = await workspace('06-window-features');
  try {
    const sample = await sampleData(ws.dir, { images: 6, videos: 0 });
    const dir = join(ws.dir, 'feature_repo');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    await copyFile(join(sample, 'events.csv'), join(dir, 'events.csv'));
    await writeFile(join(dir, 'strata.yaml'), STRATA_YAML);

    await using repo = await FeatureRepo.load(dir);
    const applied = await repo.apply();
    console.log(`applied registry v${applied.version}: ${applied.changes.join('; ')}`);
    for (const v of repo.views) console.log(`  ${v.name}: ${v.features.map((f) => `${f.name} ${f.dtype}`).join(', ')}`);

    // Entity rows: who, when, and the label to learn. Features are computed as of each row's time.
    const entityRows = [
      { user_id: 'u001', event_timestamp: new Date('2024-01-01T06:00:00Z'), churned: false },
      { user_id: 'u001', event_timestamp: new Date('2024-01-02T06:00:00Z'), churned: false },
      { user_id: 'u003', event_timestamp: new Date('2024-01-02T23:59:59Z'), churned: true },
      { user_id: 'u042', event_timestamp: new Date('2024-01-03T12:00:00Z'), churned: false },
      { user_id: 'u001', event_timestamp: new Date('2023-12-31T00:00:00Z'), churned: false }, // before any event
    ];
    const job = repo.getHistoricalFeatures(entityRows, { featureService: 'churn_model' });
    const table = await job.toArrow();
    console.log(
      `\ntraining set: ${table.numRows} rows × ${table.numCols} columns: ${table.schema.fields.map((f) => f.name).join(', ')}`,
    );
    const rows = await job.toArray();
    for (const r of rows) {
      console.log(
        `  ${String(r.user_id)} ${new Date(Number(r.event_timestamp instanceof Date ? r.event_timestamp.getTime() : r.event_timestamp)).toISOString()}  events_30m=${String(r.events_30m)} clicks_1d=${String(r.clicks_1d)} spend_1d=${String(r.spend_1d)} items_6h=${String(r.items_6h)} last_3=${JSON.stringify(r.last_3_types)} last=${String(r.event_type)}`,
      );
    }
    check(rows.length === entityRows.length, 'one output row per entity row');
    check(rows[4].event_type === null, 'nothing from the future leaks into a row before the first event');
    await job.toParquet(join(ws.dir, 'training.parquet'));
    console.log(`\nwritten to ${join(ws.dir, 'training.parquet')} (readable by pandas, DuckDB, Spark)`);

    // Validation names the file, line and fix; nothing is applied when anything is wrong.
    await writeFile(join(dir, 'strata.yaml'), STRATA_YAML.replace('hop: 15m', 'hop: 25m'));
    const err = await FeatureRepo.load(dir).catch((e: { code?: string; message?: string }) => e);
    console.log(
      `\nbad definition → ${(err as { code?: string }).code}: ${String((err as { message?: string }).message).split('\n')[0]}`,
    );
    check((err as { code?: string }).code === 'INVALID_ARGUMENT', 'a hop that does not divide the window is refused');
  } finally {
    await ws.cleanup();
  }
});
