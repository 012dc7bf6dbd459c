/**
 * Embeddings over videos: only the sampled frames are decoded (ffmpeg seeking), then pooled to one
 * vector per video, or kept per frame with their timestamps.
 *
 *   npx tsx examples/04-embed-videos.ts
 */
import { join } from 'node:path';
import { Dataset, type VideoCell, embed, ingest, type Tensor } from '../src/index.js';
import { buildModel, check, run, sampleData, workspace } from './_shared.js';

run('04-embed-videos', async () => {
  const ws = await workspace('04-embed-videos');
  try {
    const sample = await sampleData(ws.dir, { images: 3, events: 0 });
    const { uri } = await ingest(sample, join(ws.dir, 'clips.strata'), { table: 'videos.csv' });
    const model = await buildModel(ws.dir);
    await using ds = await Dataset.open(uri);
    await ds.select(['video', 'label', 'duration_s']).print();

    // One frame, decoded on its own.
    const clip = (await ds.row(1)).video as VideoCell;
    const frame = await clip.frameAt(1.0);
    console.log(
      `\n${clip.toString()}: frame at 1.0 s is #${frame.index} (${frame.shape.join('×')}, t=${frame.timestampS.toFixed(2)} s)`,
    );

    // Mean-pooled: one vector per video from 4 evenly spaced frames.
    const pooled = await embed(ds, {
      column: 'video',
      model,
      output: 'clip_embedding',
      frames: { count: 4 },
      pooling: 'mean',
      normalize: true,
    });
    console.log(`pooled: ${pooled.embedded} videos → ${pooled.column} (${pooled.dim}-d)`);

    // Per frame: a [frames, dim] tensor per video plus the frame times, one frame every 0.5 s.
    const perFrame = await embed(ds, {
      column: 'video',
      model,
      output: 'frame_embeddings',
      frames: { everySeconds: 0.5 },
      pooling: 'none',
      normalize: true,
    });
    const row = await ds.row(2);
    const vectors = row.frame_embeddings as Tensor; // generic tensors decode to { data, shape, dtype }
    const times = Array.from((row.frame_embeddings_timestamps as Tensor).data as Float64Array);
    console.log(
      `per frame: ${perFrame.embedded} videos → ${perFrame.column}; video 2: tensor ${vectors.shape.join('×')}, frames at t = ${times.join(', ')} s`,
    );
    check(times.length >= 5, 'a 3 s video sampled every 0.5 s has at least 5 frames');
    await ds.select(['label', 'clip_embedding', 'frame_embeddings']).print();
  } finally {
    await ws.cleanup();
  }
});
