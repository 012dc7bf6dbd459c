import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VideoCell } from '../../src/dataset/cells.js';
import { Dataset } from '../../src/dataset/dataset.js';
import { ingest } from '../../src/ingest/index.js';

// The sample data generator (datasets/generate.ts) is written in parallel; skip cleanly while absent.
const generator = path.resolve('datasets/generate.ts');
const has = existsSync(generator);

describe.skipIf(!has)('ingest the sample dataset (datasets/generate.ts)', () => {
  let dir: string;
  let sample: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-sample-'));
    sample = path.join(dir, 'sample');
    const { generateSampleData } = (await import(generator)) as {
      generateSampleData: (out: string, o?: Record<string, unknown>) => Promise<unknown>;
    };
    await generateSampleData(sample);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('images/ as an ImageFolder', async () => {
    const s = await ingest(path.join(sample, 'images'), `memory://sample-if-${Date.now()}`);
    expect(s).toMatchObject({ ingested: 60, skipped: [] });
  });

  it('labels.csv with the four bbox columns combined into one bbox column', async () => {
    const uri = `memory://sample-csv-${Date.now()}`;
    const s = await ingest(sample, uri, {
      table: 'labels.csv',
      boxColumns: { boxes: ['bbox_left', 'bbox_top', 'bbox_right', 'bbox_bottom'] },
    });
    expect(s).toMatchObject({ ingested: 60, skipped: [] });
    const ds = await Dataset.open(uri);
    expect(ds.schema).toMatchObject({
      label: { htype: 'class_label' },
      boxes: { htype: 'bbox' },
      width: { htype: 'generic' },
      split: { htype: 'text' },
    });
    const r = await ds.row(0);
    expect((r.boxes as number[][])[0]).toHaveLength(4);
    expect(['circle', 'square', 'triangle']).toContain(r.label);
    const first = await ds
      .batches({ columns: ['image', 'label'], batchSize: 8, decode: { image: { size: [64, 64] } } })
      .next();
    if (first.done) throw new Error('the sample dataset gave no batch');
    const batch = first.value;
    expect(batch.shapes.image).toEqual([8, 64, 64, 3]);
    await ds.close();
  });

  it('videos.csv → a video column with probed metadata', async () => {
    const uri = `memory://sample-video-${Date.now()}`;
    const s = await ingest(sample, uri, { table: 'videos.csv' });
    expect(s).toMatchObject({ ingested: 3, skipped: [] });
    const ds = await Dataset.open(uri);
    const v = (await ds.row(1)).video as VideoCell;
    expect(v.info.frameCount).toBe(25);
    await ds.close();
  });
});
