/**
 * Child process for parquet-child-process.test.ts: toParquet, fromParquet and ingest of a Parquet
 * table under plain Node's module loader (not vitest's). Works in argv[2]; prints one JSON line.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Dataset, ingest } from '../../src/index.js';
import { makeJpeg } from '../helpers/media.js';

const dir = process.argv[2];
const src = path.join(dir, 'src');
await mkdir(src, { recursive: true });
for (let i = 0; i < 3; i++)
  await writeFile(path.join(src, `${i}.jpg`), await makeJpeg({ width: 8, height: 6, seed: i }));

const ds = await Dataset.create(path.join(dir, 'table-ds'), {
  schema: { file: 'text', n: 'int64', weight: 'float64', note: 'text' },
});
await ds.append([
  { file: '0.jpg', n: 2n ** 60n + 1n, weight: 0.5, note: 'a' },
  { file: '1.jpg', n: null, weight: null, note: null },
  { file: '2.jpg', n: -7n, weight: 2.25, note: 'c' },
]);
await ds.commit('rows');
await ds.toParquet(path.join(src, 'meta.parquet'));

const back = await Dataset.fromParquet(path.join(src, 'meta.parquet'), path.join(dir, 'back-ds'));
const summary = await ingest(src, path.join(dir, 'ingested-ds'), { table: 'meta.parquet' });
const ingested = await Dataset.open(path.join(dir, 'ingested-ds'));

async function dump(d: Dataset, columns: string[]): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const c of columns) {
    const cells: unknown[] = await d.values(c);
    out[c] = cells.map((v) => (typeof v === 'bigint' ? `${v}n` : v));
  }
  return out;
}
const out = {
  fromParquet: await dump(back, ['file', 'n', 'weight', 'note']),
  ingest: {
    ingested: summary.ingested,
    skipped: summary.skipped,
    ...(await dump(ingested, ['_source', 'n', 'weight', 'note'])),
  },
};
await Promise.all([ds.close(), back.close(), ingested.close()]);
process.stdout.write(`${JSON.stringify(out)}\n`);
