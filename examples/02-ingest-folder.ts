/**
 * Ingest a folder: ImageFolder layout (<class>/<file> → image + label), a table of paths + labels + boxes,
 * link mode (references instead of bytes), corrupt files skipped and listed, and resuming.
 *
 *   npx tsx examples/02-ingest-folder.ts
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Dataset, ingest } from '../src/index.js';
import { check, progress, run, sampleData, workspace } from './_shared.js';

run('02-ingest-folder', async () => {
  const ws = await workspace('02-ingest-folder');
  try {
    const sample = await sampleData(ws.dir, { events: 0 });
    // A damaged file among the good ones: it is skipped and reported, the rest goes in.
    await writeFile(
      join(sample, 'images', 'circle', 'broken.jpg'),
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]),
    );

    // 1. ImageFolder: class = folder name.
    const folder = await ingest(join(sample, 'images'), join(ws.dir, 'folder.strata'), {
      onProgress: progress('imagefolder'),
    });
    console.log(`ImageFolder: ${folder.ingested} rows, skipped: ${JSON.stringify(folder.skipped)}`);
    check(folder.ingested === 60 && folder.skipped.length === 1, 'the broken file is skipped, the rest ingested');

    // 2. A table (CSV) mapping paths to labels and box coordinates; four columns become one bbox column.
    const table = await ingest(sample, join(ws.dir, 'table.strata'), {
      table: 'labels.csv',
      boxColumns: { boxes: ['bbox_left', 'bbox_top', 'bbox_right', 'bbox_bottom'] },
      commitEveryRows: 25,
    });
    console.log(`table: ${table.ingested} rows in ${table.commits} commits (version ${table.version})`);
    await using ds = await Dataset.open(table.uri);
    await ds.select(['image', 'label', 'boxes', 'color', 'split']).print({ rows: 4 });

    // 3. Videos from their own table.
    const clips = await ingest(sample, join(ws.dir, 'clips.strata'), { table: 'videos.csv' });
    await using videos = await Dataset.open(clips.uri);
    await videos.select(['video', 'label', 'codec']).print();

    // 4. Link mode: rows reference the files (fetched lazily through the storage layer).
    const linked = await ingest(join(sample, 'images'), join(ws.dir, 'linked.strata'), { link: true });
    await using l = await Dataset.open(linked.uri);
    console.log(
      `\nlinked: ${linked.ingested} rows, ${(linked.bytes / 1e3).toFixed(0)} kB copied; column htype ${l.schema.image.htype}`,
    );

    // 5. Resume: the _source column records each file, so a re-run adds only what is missing.
    const again = await ingest(sample, join(ws.dir, 'table.strata'), {
      table: 'labels.csv',
      boxColumns: { boxes: ['bbox_left', 'bbox_top', 'bbox_right', 'bbox_bottom'] },
    });
    console.log(`re-run: ${again.ingested} new rows, ${again.alreadyPresent} already present`);
    check(again.ingested === 0 && again.alreadyPresent === 60, 're-running an ingest adds nothing');
  } finally {
    await ws.cleanup();
  }
});
