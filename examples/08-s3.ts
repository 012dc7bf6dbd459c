/**
 * Strata on any S3-compatible store (AWS S3, MinIO, R2, Ceph, ...): ingest a local folder into an
 * s3:// dataset, open it, read lazily, embed and search, time travel, and ingest from an S3 prefix.
 *
 *   STRATA_S3_ENDPOINT=http://127.0.0.1:9000 STRATA_S3_BUCKET=my-bucket \
 *   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... npx tsx examples/08-s3.ts
 *
 * Environment: STRATA_S3_ENDPOINT (unset: AWS itself), STRATA_S3_BUCKET (required), STRATA_S3_PREFIX
 * (default strata-examples), AWS_REGION (default us-east-1), credentials from the usual AWS chain,
 * STRATA_S3_FORCE_PATH_STYLE=1 for MinIO-style endpoints. Without STRATA_S3_BUCKET it runs nothing
 * and says so (`08-s3: SKIPPED`, exit 0). To try it on this machine, with the fake S3 server the
 * project installs as a dev dependency:
 *
 *   npx s3rver -d "$(mktemp -d)" --configure-bucket strata-demo --silent &
 *   STRATA_S3_ENDPOINT=http://localhost:4568 STRATA_S3_BUCKET=strata-demo STRATA_S3_FORCE_PATH_STYLE=1 \
 *   AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER npx tsx examples/08-s3.ts
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Dataset, embed, ingest, openStorage } from '../src/index.js';
import { buildModel, check, run, sampleData, workspace } from './_shared.js';

const bucket = process.env.STRATA_S3_BUCKET;
if (!bucket) {
  // Nothing ran, so no "ok": say so, why, and how to run it.
  process.stderr.write(
    [
      '08-s3: SKIPPED (nothing ran): STRATA_S3_BUCKET is not set.',
      '  Run it against any S3-compatible store: STRATA_S3_BUCKET=<bucket> [STRATA_S3_ENDPOINT=<url>] npx tsx examples/08-s3.ts',
      '  or locally with the fake S3 server installed as a dev dependency:',
      '    npx s3rver -d "$(mktemp -d)" --configure-bucket strata-demo --silent &',
      '    STRATA_S3_ENDPOINT=http://localhost:4568 STRATA_S3_BUCKET=strata-demo STRATA_S3_FORCE_PATH_STYLE=1 \\',
      '    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER npx tsx examples/08-s3.ts',
      '',
    ].join('\n'),
  );
} else run('08-s3', () => main(bucket));

async function main(bucket: string): Promise<void> {
  const s3 = {
    ...(process.env.STRATA_S3_ENDPOINT ? { endpoint: process.env.STRATA_S3_ENDPOINT } : {}),
    region: process.env.AWS_REGION ?? 'us-east-1',
  };
  const root = `s3://${bucket}/${process.env.STRATA_S3_PREFIX ?? 'strata-examples'}/${Date.now().toString(36)}`;
  const store = await openStorage(root, { s3 }); // checks the S3 settings before any work
  const ws = await workspace('08-s3');
  try {
    const sample = await sampleData(ws.dir, { videos: 1, events: 0 });

    // 1. Local folder → S3 dataset.
    const uri = `${root}/shapes`;
    const summary = await ingest(sample, uri, { table: 'labels.csv', s3 });
    console.log(`ingested ${summary.ingested} rows into ${summary.uri}`);

    // 2. Open it from S3: one manifest read; media read lazily with ranged GETs, through an LRU cache.
    await using ds = await Dataset.open(uri, { s3, cacheBytes: 64 * 1024 * 1024 });
    await ds.select(['image', 'label', 'split']).print({ rows: 4 });
    const img = (await ds.row(7)).image as { decode(o?: object): Promise<{ shape: readonly number[] }> };
    console.log(`row 7 decoded from S3: ${(await img.decode()).shape.join('×')}`);

    // 3. Embed and search, the model itself read from S3 through the storage layer.
    const modelKey = 'models/shapes-tiny.onnx';
    await store.put(modelKey, new Uint8Array(await readFile(await buildModel(ws.dir))));
    const e = await embed(ds, {
      column: 'image',
      model: `${root}/${modelKey}`,
      storageOptions: { s3 },
      output: 'embedding',
      normalize: true,
    });
    const hits = await ds.search('embedding', { row: 0 }, { k: 3, storageOptions: { s3 } });
    console.log(
      `embedded ${e.embedded} images on S3 (v${e.version}); nearest to row 0: ${hits.map((h) => h.row).join(', ')}`,
    );
    check(
      hits.some((h) => h.row === 0),
      'row 0 is among its own nearest neighbours',
    );

    // 4. Time travel works the same on S3.
    const v1 = await ds.checkout(1);
    console.log(
      `versions: ${(await ds.versions()).map((v) => v.version).join(', ')}; v1 columns: ${v1.columns.join(', ')}`,
    );
    check(!v1.columns.includes('embedding'), 'v1 predates the embedding column');

    // 5. Ingest from an S3 prefix (upload the sample images first), copying or linking.
    const files: string[] = [];
    const walk = async (d: string) => {
      for (const ent of await readdir(d, { withFileTypes: true })) {
        if (ent.isDirectory()) await walk(join(d, ent.name));
        else files.push(join(d, ent.name));
      }
    };
    await walk(join(sample, 'images'));
    for (const f of files)
      await store.put(`raw/${relative(join(sample, 'images'), f)}`, new Uint8Array(await readFile(f)));
    const fromS3 = await ingest(`${root}/raw`, `${root}/linked`, { link: true, s3 });
    await using linked = await Dataset.open(fromS3.uri, { s3 });
    const first = (await linked.row(0)).image as { url?: string; bytes(): Promise<Uint8Array> };
    console.log(
      `ingested ${fromS3.ingested} S3 files as links; row 0 → ${first.url} (${(await first.bytes()).length} bytes, fetched on demand)`,
    );
    check(fromS3.ingested === files.length, 'every uploaded file is linked');
  } finally {
    await store.close();
    await ws.cleanup();
  }
}
