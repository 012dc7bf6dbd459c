/**
 * `npm run demo`: Strata end to end on embedded defaults (no server, no credentials, nothing downloaded).
 *
 *  1. generate the sample data (datasets/generate.ts): shape images with labels and boxes, videos, an event log
 *  2. ingest it into datasets and print them like a DataFrame
 *  3. build a small ONNX model (datasets/models) and compute image and video embeddings
 *  4. nearest-neighbour search for one image
 *  5. window features over the event log (count, distinct, sum, mean over sliding windows)
 *  6. a point-in-time-correct training set
 *  7. materialize into the embedded online store (SQLite)
 *  8. start the feature server on a free local port and fetch a feature vector over HTTP (embedding included)
 *
 * Work goes to a temp dir (or $STRATA_EXAMPLES_DIR/demo); exits non-zero if any step fails.
 */
import { join } from 'node:path';
import * as A from 'apache-arrow';
import {
  Dataset,
  FeatureRepo,
  SqliteOnlineStore,
  createFeatureServer,
  defineEntity,
  defineFeatureService,
  defineFeatureView,
  defineSource,
  embed,
  ingest,
  materialize,
} from '../src/index.js';
import {
  MODEL_DIM,
  MODEL_INPUT,
  buildModel,
  check,
  plan,
  progress,
  run,
  sampleData,
  step,
  workspace,
} from './_shared.js';

const START = new Date('2024-01-01T00:00:00Z');
const END = new Date('2024-01-04T00:00:00Z');
const BOXES = { boxes: ['bbox_left', 'bbox_top', 'bbox_right', 'bbox_bottom'] as const };

run('demo', async () => {
  const ws = await workspace('demo');
  plan(8);
  try {
    const sample = await step('Generate the sample data (datasets/generate.ts)', async () => {
      const dir = await sampleData(ws.dir);
      console.log(`sample data in ${dir}: 60 labelled images, 3 videos, 5,000 events`);
      return dir;
    });

    const { images, videos } = await step('Ingest images and videos into Strata datasets', async () => {
      const a = await ingest(sample, join(ws.dir, 'shapes.strata'), {
        table: 'labels.csv',
        boxColumns: BOXES,
        onProgress: progress('images'),
      });
      const b = await ingest(sample, join(ws.dir, 'clips.strata'), {
        table: 'videos.csv',
        onProgress: progress('videos'),
      });
      check(a.ingested === 60 && a.skipped.length === 0, 'all 60 images ingested');
      check(b.ingested === 3, 'all 3 videos ingested');
      const imagesDs = await Dataset.open(a.uri);
      const videosDs = await Dataset.open(b.uri);
      await imagesDs.select(['image', 'label', 'boxes', 'split', '_source']).print({ rows: 6 });
      await videosDs.select(['video', 'label', 'duration_s', 'fps']).print();
      console.log(
        '\nimages per label:',
        (await imagesDs.groupBy('label').count()).map((g) => `${String(g.key)} ${g.count}`).join(', '),
      );
      return { images: imagesDs, videos: videosDs };
    });

    const model = await step(
      `Compute embeddings with a small ONNX model built in-process (edge orientations, ${MODEL_INPUT}×${MODEL_INPUT} → ${MODEL_DIM}-d)`,
      async () => {
        const path = await buildModel(ws.dir);
        const img = await embed(images, {
          column: 'image',
          model: path,
          output: 'embedding',
          normalize: true,
          onProgress: progress('images embedded'),
        });
        const vid = await embed(videos, {
          column: 'video',
          model: path,
          output: 'embedding',
          normalize: true,
          frames: { count: 4 },
          pooling: 'mean',
          onProgress: progress('videos embedded'),
        });
        check(img.embedded === 60 && img.failures.length === 0, 'every image embedded');
        check(vid.embedded === 3, 'every video embedded');
        console.log(
          `images: ${img.embedded} vectors (${img.imagesPerSecond.toFixed(0)}/s) in column "${img.column}", version ${img.version}`,
        );
        console.log(`videos: ${vid.embedded} vectors (mean of 4 frames each), version ${vid.version}`);
        console.log(
          `lineage: model sha256 ${img.lineage.model.sha256.slice(0, 16)}…, preprocess ${JSON.stringify(img.lineage.preprocess)}`,
        );
        return path;
      },
    );

    await step('Nearest neighbours of one image', async () => {
      const query = 0;
      const q = await images.row(query);
      const hits = await images.search('embedding', { row: query }, { k: 6 });
      console.log(`query: row ${query} (${String(q.label)}, ${String(q._source)})`);
      const near = await images
        .take(hits.map((h) => h.row))
        .select(['label', '_source'])
        .toArray();
      hits.forEach((h, i) =>
        console.log(
          `  ${String(i + 1).padStart(2)}. row ${String(h.row).padStart(2)}  score ${h.score.toFixed(4)}  ${String(near[i].label).padEnd(8)} ${String(near[i]._source)}`,
        ),
      );
      check(
        hits.some((h) => h.row === query && h.score > 0.9999),
        'an image is among its own nearest neighbours',
      );
      const sameLabel = near.filter((r, i) => hits[i].row !== query && r.label === q.label).length;
      console.log(`${sameLabel} of the ${hits.length - 1} nearest other images are ${String(q.label)}s`);
      const file = await images.row(5).then((r) => (r.image as { bytes(): Promise<Uint8Array> }).bytes());
      const fromFile = await images.search('embedding', { image: file }, { k: 3 });
      check(
        fromFile.some((h) => h.row === 5) && fromFile[0].score > 0.9999,
        'searching with the image file finds its row',
      );
      console.log(
        `query by image bytes (row 5's file, embedded with the column's lineage model ${model.split('/').pop()}): rows ${fromFile.map((h) => h.row).join(', ')}`,
      );
    });

    const repo = await step('Define window features over the event log', async () => {
      const vectors = await images.select(['_source', 'embedding']).toArrow();
      const itemTable = vectors.assign(
        new A.Table({
          event_timestamp: A.vectorFromArray(
            Array.from({ length: vectors.numRows }, () => START),
            new A.TimestampMillisecond(),
          ),
        }),
      );
      const defs = [
        defineEntity({ name: 'user', joinKeys: ['user_id'] }),
        defineEntity({ name: 'item', joinKeys: ['_source'] }),
        defineSource({ name: 'events', kind: 'csv', path: join(sample, 'events.csv'), idField: 'event_id' }),
        defineSource({ name: 'item_vectors', kind: 'table', table: itemTable }),
        defineFeatureView({
          name: 'user_activity',
          entities: ['user'],
          source: 'events',
          aggregations: [
            { function: 'count', window: '1h', name: 'events_1h' },
            { function: 'count', window: '1d', where: "event_type = 'click'", name: 'clicks_1d' },
            { column: 'item_path', function: 'count_distinct', window: '1d', name: 'items_seen_1d' },
            { column: 'amount', function: 'sum', window: '1d', where: "event_type = 'purchase'", name: 'spend_1d' },
            {
              column: 'amount',
              function: 'mean',
              window: 'lifetime',
              where: "event_type = 'purchase'",
              name: 'avg_purchase',
            },
          ],
        }),
        defineFeatureView({
          name: 'item_embedding',
          entities: ['item'],
          source: 'item_vectors',
          features: ['embedding'],
        }),
        defineFeatureService({ name: 'recommender', features: ['user_activity', 'item_embedding:embedding'] }),
      ];
      const r = await FeatureRepo.fromDefinitions(defs, { dir: join(ws.dir, 'feature_repo'), project: 'demo' });
      await import('node:fs/promises').then((fs) => fs.mkdir(join(ws.dir, 'feature_repo'), { recursive: true }));
      const applied = await r.apply();
      for (const v of r.views)
        console.log(
          `  ${v.name} (${v.kind}, key ${v.entities.join(', ')}): ${v.features.map((f) => `${f.name} ${f.dtype}`).join(', ')}`,
        );
      console.log(`registry version ${applied.version} written to ${applied.path}`);
      const tiles = await r.backfill('user_activity');
      console.log(`backfill: ${tiles.numRows} tiles (partial aggregates) for user_activity`);
      return r;
    });

    await step('Build a point-in-time-correct training set', async () => {
      const rows = [
        {
          user_id: 'u001',
          _source: 'images/circle/circle_000.jpg',
          event_timestamp: new Date('2024-01-01T12:00:00Z'),
          label: 1,
        },
        {
          user_id: 'u001',
          _source: 'images/square/square_003.jpg',
          event_timestamp: new Date('2024-01-02T12:00:00Z'),
          label: 0,
        },
        {
          user_id: 'u002',
          _source: 'images/triangle/triangle_007.jpg',
          event_timestamp: new Date('2024-01-02T18:30:00Z'),
          label: 1,
        },
        {
          user_id: 'u050',
          _source: 'images/circle/circle_004.png',
          event_timestamp: new Date('2024-01-03T06:00:00Z'),
          label: 0,
        },
        {
          user_id: 'u999',
          _source: 'images/circle/circle_000.jpg',
          event_timestamp: new Date('2024-01-03T06:00:00Z'),
          label: 0,
        },
      ];
      const job = repo.getHistoricalFeatures(rows, { featureService: 'recommender' });
      const out = await job.toArray();
      check(out.length === rows.length, 'one output row per entity row');
      for (const r of out) {
        const emb = r.embedding as ArrayLike<number> | null;
        console.log(
          `  ${String(r.user_id)} @ ${new Date(r.event_timestamp instanceof Date ? r.event_timestamp.getTime() : Number(r.event_timestamp)).toISOString()}  label=${String(r.label)}  events_1h=${String(r.events_1h)}  clicks_1d=${String(r.clicks_1d)}` +
            `  items_seen_1d=${String(r.items_seen_1d)}  spend_1d=${fmt(r.spend_1d)}  avg_purchase=${fmt(r.avg_purchase)}  embedding=${
              emb
                ? `[${Array.from(emb)
                    .slice(0, 3)
                    .map((x) => x.toFixed(3))
                    .join(', ')}, …] (${emb.length})`
                : 'null'
            }`,
        );
      }
      check(
        out[4].events_1h === null || out[4].events_1h === 0 || out[4].events_1h === 0n,
        'an unknown user has no activity',
      );
      check(
        out.every((r) => r.embedding !== null),
        'every row joined its item embedding',
      );
    });

    const store = await step('Materialize into the embedded online store (SQLite)', async () => {
      const s = await SqliteOnlineStore.open(join(ws.dir, 'feature_repo', '.strata', 'online.sqlite'));
      const r = await materialize(repo, s, { start: START, end: END, onProgress: progress('rows written') });
      for (const v of r.views) console.log(`  ${v.view}: ${v.rows} entities, ${v.written} written`);
      check(
        r.views.every((v) => v.written > 0),
        'every view wrote rows',
      );
      return s;
    });

    await step('Serve features over HTTP and fetch a feature vector', async () => {
      await using server = await createFeatureServer(repo, store, { port: 0, token: '' });
      console.log(`feature server listening on ${server.url}`);
      const body = {
        feature_service: 'recommender',
        entities: { user_id: ['u001'], _source: ['images/circle/circle_000.jpg'] },
      };
      console.log(`POST ${server.url}/get-online-features ${JSON.stringify(body)}`);
      const res = await fetch(`${server.url}/get-online-features`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as {
        metadata: { feature_names: string[] };
        results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
      };
      check(res.status === 200, `HTTP 200 (got ${res.status}: ${JSON.stringify(json).slice(0, 200)})`);
      const names = json.metadata.feature_names;
      names.forEach((n, i) => {
        const v = json.results[i].values[0];
        const shown = Array.isArray(v)
          ? `[${v
              .slice(0, 4)
              .map((x) => Number(x).toFixed(4))
              .join(', ')}, …] (${v.length} floats)`
          : JSON.stringify(v);
        console.log(`  ${n.padEnd(14)} ${json.results[i].statuses[0].padEnd(8)} ${shown}`);
      });
      const emb = json.results[names.indexOf('embedding')]?.values[0];
      check(Array.isArray(emb) && emb.length === MODEL_DIM, `the response carries the ${MODEL_DIM}-d embedding`);
      check(
        json.results.every((r) => r.statuses[0] === 'PRESENT'),
        'every feature is PRESENT',
      );
      await server.close();
      console.log('feature server stopped');
    });

    await store.close();
    await repo.close();
    await images.close();
    await videos.close();
    const kept = Boolean(process.env.STRATA_EXAMPLES_DIR || process.env.STRATA_KEEP);
    console.log(
      kept
        ? `\nData kept in ${ws.dir}. Browse it: node bin/strata.js view ${join(ws.dir, 'shapes.strata')}`
        : '\nNext: STRATA_EXAMPLES_DIR=./demo-out npm run demo keeps the data; then node bin/strata.js view ./demo-out/demo/shapes.strata',
    );
  } finally {
    await ws.cleanup();
  }
});

function fmt(v: unknown): string {
  return typeof v === 'number' ? v.toFixed(2) : String(v);
}
