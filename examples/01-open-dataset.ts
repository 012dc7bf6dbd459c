/**
 * Open a dataset like a DataFrame: schema, print, head/filter/sortBy/groupBy/describe, lazy media cells,
 * decoding one image, and time travel to an earlier version. Nothing is decoded until asked for.
 *
 *   npx tsx examples/01-open-dataset.ts
 */
import { join } from 'node:path';
import { Dataset, ImageCell, ingest } from '../src/index.js';
import { check, run, sampleData, workspace } from './_shared.js';

run('01-open-dataset', async () => {
  const ws = await workspace('01-open-dataset');
  try {
    const sample = await sampleData(ws.dir, { videos: 0, events: 0 });
    const uri = join(ws.dir, 'shapes.strata');
    await ingest(sample, uri, {
      table: 'labels.csv',
      boxColumns: { boxes: ['bbox_left', 'bbox_top', 'bbox_right', 'bbox_bottom'] },
    });

    // Opening reads one manifest; no chunk is touched.
    await using ds = await Dataset.open(uri);
    console.log(String(ds)); // Dataset(… @ v1, 60 rows, image: image, label: class_label, …)
    console.log('columns:', ds.columns.join(', '));
    console.log('schema of label:', JSON.stringify(ds.schema.label));

    // Print like a DataFrame: media render from their info column (<image 128×128×3 jpeg>).
    await ds.select(['image', 'label', 'boxes', 'width', 'split']).print({ rows: 6 });

    // Views are built at once and run by an awaited terminal (count, row, values, print, ...); nothing is copied.
    const circles = ds.filter({ label: 'circle' });
    const bigFirst = circles.sortBy('width', { descending: true });
    console.log(`\ncircles: ${await circles.count()} rows; label counts:`, await ds.groupBy('label').count());
    await bigFirst.head(3).select(['label', 'boxes', '_source']).print();
    const train = ds.filter((row) => row.split === 'train');
    console.log(`train split: ${await train.count()} of ${ds.length}`);

    for (const s of await ds.select(['label', 'width', 'image']).describe())
      console.log('describe:', JSON.stringify(s));

    // A media cell is a lazy handle: shape/format without decoding; bytes() and decode() on demand.
    const row = await ds.row(0);
    const image = row.image as ImageCell;
    check(image instanceof ImageCell, 'row 0 has an image cell');
    console.log(`\nrow 0: ${image.toString()} label=${String(row.label)} boxes=${JSON.stringify(row.boxes)}`);
    const px = await image.decode({ resize: { width: 32, height: 32 } });
    console.log(
      `decoded: shape ${px.shape.join('×')} ${px.dtype}, first pixel rgb(${Array.from(px.data.subarray(0, 3)).join(', ')})`,
    );

    // Every commit is a version; open an older one (time travel).
    await ds.append({ image: await image.bytes(), label: 'circle', _source: 'copy-of-row-0' });
    const v = await ds.commit('one more circle');
    const v1 = await ds.checkout(1);
    console.log(
      `\nversions: ${(await ds.versions()).map((x) => `v${x.version} (${x.length} rows, "${x.message}")`).join(', ')}`,
    );
    check(ds.length === 61 && v1.length === 60 && v === 2, 'time travel sees the old length');
    console.log(`latest v${ds.version} has ${ds.length} rows; v1 still has ${v1.length}`);
  } finally {
    await ws.cleanup();
  }
});
