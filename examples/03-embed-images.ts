/**
 * Compute embeddings over an image column with an ONNX model: preprocess, lineage in the column
 * metadata, resumable and idempotent (a re-run is a no-op), a different model refused or written to a new column.
 *
 *   npx tsx examples/03-embed-images.ts
 */
import { join } from 'node:path';
import { Dataset, embed, ingest } from '../src/index.js';
import { buildTinyConvNet, writeModel } from '../datasets/models/onnx-builder.js';
import { buildModel, check, progress, run, sampleData, workspace } from './_shared.js';

run('03-embed-images', async () => {
  const ws = await workspace('03-embed-images');
  try {
    const sample = await sampleData(ws.dir, { videos: 0, events: 0 });
    const { uri } = await ingest(sample, join(ws.dir, 'shapes.strata'), { table: 'labels.csv' });
    const model = await buildModel(ws.dir); // built in-process: 64×64 RGB → 16-d edge-orientation histogram
    await using ds = await Dataset.open(uri);

    const summary = await embed(ds, {
      column: 'image',
      model,
      output: 'embedding',
      preprocess: { size: 64, fit: 'cover', layout: 'NCHW', channels: 'RGB' }, // mean/std default to ImageNet's
      normalize: true,
      batchSize: 16,
      commitEveryBatches: 2, // the unit of resumption
      onProgress: progress('embedded'),
    });
    console.log(
      `embedded ${summary.embedded} images → ${summary.column} (${summary.dim}-d) at ${summary.imagesPerSecond.toFixed(0)} img/s, version ${summary.version}`,
    );
    const lineage = ds.columnMeta('embedding').lineage as Record<string, unknown>;
    console.log('lineage:', JSON.stringify(lineage, null, 2).slice(0, 600));

    await ds.select(['label', 'embedding']).print({ rows: 4 });

    // Same model and preprocess again: nothing to compute.
    const again = await embed(ds, {
      column: 'image',
      model,
      output: 'embedding',
      preprocess: { size: 64 },
      normalize: true,
    });
    check(again.noop && again.processed === 0, 'a re-run with the same lineage is a no-op');
    console.log(`re-run: noop=${again.noop}`);

    // Another model never mixes into the same column: error by default, or a new column.
    const other = join(ws.dir, 'models', 'other.onnx');
    await writeModel(other, buildTinyConvNet({ seed: 99, inputSize: 64, dim: 32 }).bytes); // random weights
    const refused = await embed(ds, { column: 'image', model: other, output: 'embedding', normalize: true }).catch(
      (e: { code?: string }) => e.code,
    );
    check(refused === 'CONFLICT', 'a different model is refused for an existing column');
    const second = await embed(ds, {
      column: 'image',
      model: other,
      output: 'embedding',
      normalize: true,
      onLineageMismatch: 'new-column',
    });
    console.log(`another model → ${refused} on "embedding"; with onLineageMismatch 'new-column' → "${second.column}"`);
  } finally {
    await ws.cleanup();
  }
});
