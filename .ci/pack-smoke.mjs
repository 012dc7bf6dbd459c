// Run by .ci/pack-check.sh inside an empty project that installed the packed tarball: imports
// 'strata' like a user would and walks the tour — ingest a generated image folder, embed it with a
// small ONNX model, Parquet out and back, a feature view over the dataset materialized and served
// over HTTP — then prints "ok". Any failure exits non-zero.
//   node pack-smoke.mjs <work dir> <model.onnx>
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Dataset, FeatureRepo, createFeatureServer, embed, ingest, materialize, openOnlineStore } from 'strata';

const [dir, modelPath] = process.argv.slice(2);
assert.ok(dir && modelPath, 'usage: node pack-smoke.mjs <work dir> <model.onnx>');

// A tiny image folder (<class>/<file>), drawn with the sharp that strata itself depends on.
const sharp = createRequire(import.meta.resolve('strata'))('sharp');
const classes = ['red', 'blue'];
for (const [c, name] of classes.entries()) {
  await mkdir(join(dir, 'images', name), { recursive: true });
  for (let i = 0; i < 3; i++) {
    const background = c === 0 ? { r: 200 + i * 10, g: 20, b: 30 } : { r: 10, g: 40 + i * 20, b: 220 };
    const png = await sharp({ create: { width: 24 + i * 4, height: 20, channels: 3, background } })
      .png()
      .toBuffer();
    await writeFile(join(dir, 'images', name, `${i}.png`), png);
  }
}

// ingest
const uri = join(dir, 'images.strata');
const ingested = await ingest(join(dir, 'images'), uri);
assert.equal(ingested.ingested, 6, `ingest: ${JSON.stringify(ingested)}`);

// embed
const ds = await Dataset.open(uri);
const summary = await embed(ds, { column: 'image', model: modelPath, output: 'emb', normalize: true });
assert.equal(ds.length, 6);
const vectors = await ds.values('emb');
assert.equal(vectors.filter((v) => v instanceof Float32Array && v.length === 16).length, 6, JSON.stringify(summary));

// Parquet out and back (parquetjs-lite under plain node); danfo and TensorFlow.js were not installed
// (optional peer), so toDanfo is UNSUPPORTED and says what to install
await ds.toParquet(join(dir, 'images.parquet'), { columns: ['_source', 'label', 'emb'] });
const back = await Dataset.fromParquet(join(dir, 'images.parquet'), join(dir, 'back.strata'));
assert.deepEqual(await back.values('_source'), await ds.values('_source'));
await back.close();
const strataRequire = createRequire(import.meta.resolve('strata'));
for (const name of ['danfojs-node', '@tensorflow/tfjs-core', '@tensorflow/tfjs-node']) {
  assert.throws(() => strataRequire.resolve(name), { code: 'MODULE_NOT_FOUND' }, `${name} was installed`);
}
await assert.rejects(ds.toDanfo(), (err) => err.code === 'UNSUPPORTED' && /npm install danfojs-node/.test(err.message));
// SQL through DuckDB (@duckdb/node-api, a dependency loaded on first use), with embed() from SQL
const counts = (await ds.sql('SELECT label, count(*)::INT AS n FROM ds GROUP BY label ORDER BY label')).toArray();
assert.equal(
  counts.reduce((a, r) => a + r.n, 0),
  6,
  JSON.stringify(counts),
);
const sims = (await ds.sql(`SELECT min(cosine(embed('${modelPath}', image), emb)) AS c FROM ds`)).toArray();
assert.ok(Math.abs(sims[0].c - 1) < 1e-5, JSON.stringify(sims));
const committedMs = ds.core.manifest.timestampMs;
await ds.close();

// a feature view over the dataset, materialized into SQLite and served
const repoDir = join(dir, 'repo');
await mkdir(repoDir, { recursive: true });
await writeFile(
  join(repoDir, 'strata.yaml'),
  `project: smoke
entities:
  - { name: image, join_keys: [_source] }
sources:
  - { name: images, kind: dataset, path: ${JSON.stringify(uri)}, options: { columns: [_source, label, emb] } }
feature_views:
  - { name: image_features, entities: [image], source: images, features: [label, emb] }
`,
);
const repo = await FeatureRepo.load(repoDir);
await repo.apply();
const store = await openOnlineStore(repoDir);
await materialize(repo, store, { start: new Date(committedMs - 60_000), end: new Date(committedMs + 60_000) });
const server = await createFeatureServer(repo, store, { port: 0 });
try {
  const res = await fetch(`${server.url}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      features: ['image_features:label', 'image_features:emb'],
      entities: { _source: ['blue/1.png', 'nowhere.png'] },
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const [, label, emb] = body.results;
  assert.deepEqual(label.values, ['blue', null], JSON.stringify(body));
  assert.deepEqual(label.statuses, ['PRESENT', 'NOT_FOUND']);
  assert.equal(emb.values[0].length, 16);
} finally {
  await server.close();
  await store.close();
  await repo.close();
}
console.log('ok');
