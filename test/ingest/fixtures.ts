import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeJpeg, makePng, makeVideo, truncate } from '../helpers/media.js';

/** An ImageFolder tree: cat/ (4 JPEG + 1 truncated), dog/ (3 PNG), bird/ (1 MP4), notes.txt at the root. */
export async function writeImageFolder(
  root: string,
): Promise<{ files: Record<string, Uint8Array>; corrupt: string[] }> {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 4; i++) files[`cat/c${i}.jpg`] = await makeJpeg({ width: 32 + i * 4, height: 24, seed: i + 1 });
  for (let i = 0; i < 3; i++) files[`dog/d${i}.png`] = await makePng({ width: 20, height: 20 + i * 4, seed: 10 + i });
  files['bird/b0.mp4'] = await makeVideo({ frames: 4, fps: 4, width: 32, height: 32, format: 'mp4' });
  const bad = truncate(await makeJpeg({ width: 64, height: 48, seed: 99 }), 300);
  for (const [k, v] of Object.entries({
    ...files,
    'cat/broken.jpg': bad,
    'notes.txt': new TextEncoder().encode('hello'),
  })) {
    await mkdir(path.dirname(path.join(root, k)), { recursive: true });
    await writeFile(path.join(root, k), v);
  }
  return { files, corrupt: ['cat/broken.jpg'] };
}

/** `n` small JPEGs named img/000.jpg ... plus a CSV mapping them to a label, a box and a score. */
export async function writeTable(
  root: string,
  n: number,
  format: 'csv' | 'jsonl' = 'csv',
): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  await mkdir(path.join(root, 'img'), { recursive: true });
  const lines = format === 'csv' ? ['file,label,boxes,score,meta'] : [];
  for (let i = 0; i < n; i++) {
    const key = `img/${String(i).padStart(3, '0')}.jpg`;
    files[key] = await makeJpeg({ width: 24, height: 16, seed: 100 + i });
    await writeFile(path.join(root, key), files[key]);
    const rec = { file: key, label: i % 2 ? 'odd' : 'even', boxes: [[i, 1, i + 5, 9]], score: i / 4, meta: { i } };
    lines.push(
      format === 'csv'
        ? `${key},${rec.label},"${JSON.stringify(rec.boxes)}",${rec.score},"${JSON.stringify(rec.meta).replace(/"/g, '""')}"`
        : JSON.stringify(rec),
    );
  }
  await writeFile(path.join(root, format === 'csv' ? 'labels.csv' : 'labels.jsonl'), lines.join('\n') + '\n');
  return files;
}
