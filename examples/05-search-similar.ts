/**
 * Search similar images: by row, by an image file (embedded with the column's own model and
 * preprocess, from its lineage), by vector, within a filter; then build an HNSW index that
 * `search` uses automatically while it is current.
 *
 *   npx tsx examples/05-search-similar.ts
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Dataset, createIndex, embed, ingest } from '../src/index.js';
import { buildModel, check, run, sampleData, workspace } from './_shared.js';

run('05-search-similar', async () => {
  const ws = await workspace('05-search-similar');
  try {
    const sample = await sampleData(ws.dir, { videos: 0, events: 0 });
    const { uri } = await ingest(sample, join(ws.dir, 'shapes.strata'), { table: 'labels.csv' });
    await using ds = await Dataset.open(uri);
    await embed(ds, { column: 'image', model: await buildModel(ws.dir), output: 'embedding', normalize: true });

    const show = async (title: string, hits: { row: number; score: number }[]) => {
      const rows = await ds
        .take(hits.map((h) => h.row))
        .select(['label', '_source'])
        .toArray();
      console.log(`\n${title}`);
      hits.forEach((h, i) =>
        console.log(
          `  row ${String(h.row).padStart(2)}  ${h.score.toFixed(4)}  ${String(rows[i].label).padEnd(9)}${String(rows[i]._source)}`,
        ),
      );
    };

    // By row: the row's stored vector.
    const byRow = await ds.search('embedding', { row: 3 }, { k: 5 });
    await show('nearest to row 3:', byRow);
    check(
      byRow.some((h) => h.row === 3),
      'a row is among its own nearest neighbours',
    );

    // By image file: embedded exactly as the column was (model verified by sha256).
    const file = join(sample, 'images', 'square', 'square_002.jpg');
    const byImage = await ds.search('embedding', { image: new Uint8Array(await readFile(file)) }, { k: 3 });
    await show(`nearest to ${file.split('/').slice(-2).join('/')}:`, byImage);

    // By vector, with another metric, only among triangles.
    const vector = (await ds.row(0)).embedding as Float32Array;
    const triangles = await ds.search(
      'embedding',
      { vector: vector },
      { k: 3, metric: 'l2', filter: { label: 'triangle' } },
    );
    await show('triangles nearest to row 0 (l2 distance):', triangles);
    check(triangles.length === 3, 'three triangles found');

    // An ANN index (HNSW), persisted with the version it was built for and used while current.
    const entry = await createIndex(ds, 'embedding', { metric: 'cosine', M: 8, efConstruction: 64 });
    await ds.refresh();
    const plan = await import('../src/embed/index.js').then((m) =>
      m.searchDataset(ds, 'embedding', { row: 3 }, { k: 5 }),
    );
    console.log(
      `\nindex: ${entry.kind} built for v${entry.builtForVersion}; search plan now: ${plan.plan.method} (${plan.plan.reason})`,
    );
    check(
      plan.hits.some((h) => h.row === 3),
      'the index finds the row itself',
    );
  } finally {
    await ws.cleanup();
  }
});
