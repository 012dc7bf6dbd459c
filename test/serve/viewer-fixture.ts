/** A small labelled dataset for the viewer tests: solid-colour images per label, boxes, clustered embeddings. */
import { Dataset } from '../../src/dataset/dataset.js';
import { makeJpeg, makeVideo, rng } from '../helpers/media.js';

export const LABELS = ['cat', 'dog', 'bird'] as const;
const COLORS = { cat: [230, 140, 40], dog: [40, 90, 220], bird: [40, 180, 80] } as const;

/** `n` rows cycling through the labels; row i's embedding points at its label's axis (plus noise). */
export async function makeViewerDataset(uri: string, n = 60): Promise<Dataset> {
  const ds = await Dataset.create(uri, {
    schema: {
      image: 'image',
      label: { htype: 'class_label', classNames: [...LABELS] },
      boxes: { htype: 'bbox', format: 'ltwh' },
      embedding: { htype: 'embedding', dim: 8 },
      caption: 'text',
    },
  });
  const r = rng(42);
  for (let i = 0; i < n; i++) {
    const label = LABELS[i % 3];
    const emb = new Float32Array(8);
    emb[i % 3] = 1;
    for (let d = 0; d < 8; d++) emb[d] += (r() - 0.5) * 0.2;
    await ds.append({
      image: await makeJpeg({ width: 160, height: 120, color: COLORS[label] }),
      label,
      boxes: [[16 + (i % 5) * 8, 12, 64, 48]],
      embedding: emb,
      caption: `${label} number ${i}`,
    });
  }
  await ds.commit('viewer fixture');
  return ds;
}

/** Two short videos (frame k has colour frameColor(k)). */
export async function makeVideoDataset(uri: string): Promise<Dataset> {
  const ds = await Dataset.create(uri, { schema: { clip: 'video', label: 'class_label' } });
  for (const label of ['a', 'b']) {
    await ds.append({ clip: await makeVideo({ frames: 24, fps: 12, width: 64, height: 48, format: 'mp4' }), label });
  }
  await ds.commit('videos');
  return ds;
}
