import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import type { ImageCell, VideoCell } from '../../src/dataset/cells.js';
import { ingest, parseCsv } from '../../src/ingest/index.js';
import type { Progress } from '../../src/progress.js';
import { openStorage } from '../../src/storage/open.js';
import { parquetLib } from '../../src/interop/parquetjs.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { makeJpeg } from '../helpers/media.js';
import { writeImageFolder, writeTable } from './fixtures.js';

let dir: string;
let folder: string;
let fixture: Awaited<ReturnType<typeof writeImageFolder>>;
let s3: S3TestServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-ingest-'));
  folder = path.join(dir, 'folder');
  fixture = await writeImageFolder(folder);
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function sourceMap(ds: Dataset): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const s of (await ds.values('_source')) as string[]) m.set(s, (m.get(s) ?? 0) + 1);
  return m;
}

async function checkImageFolder(ds: Dataset, files: Record<string, Uint8Array>, link: boolean): Promise<void> {
  expect(ds.length).toBe(Object.keys(files).length);
  const rows = await ds.toArray();
  for (const r of rows) {
    const src = r._source as string;
    expect(r.label).toBe(src.split('/')[0]);
    const cell = (src.endsWith('.mp4') ? r.video : r.image) as ImageCell | VideoCell;
    expect(Buffer.compare(Buffer.from(await cell.bytes()), Buffer.from(files[src]))).toBe(0);
    expect(src.endsWith('.mp4') ? r.image : r.video).toBeNull();
  }
  expect(ds.schema.image.htype).toBe(link ? 'link' : 'image');
  expect(ds.schema.video.htype).toBe(link ? 'link' : 'video');
  expect([...(ds.columnMeta('label').classNames as string[])].sort()).toEqual(['bird', 'cat', 'dog']);
}

describe('ingest from a local folder', () => {
  it('ImageFolder, copy mode: images + video + class labels; corrupt and foreign files skipped and listed', async () => {
    const target = path.join(dir, 'if-copy');
    const seen: Progress[] = [];
    const summary = await ingest(folder, target, { onProgress: (p) => seen.push(p) });
    expect(summary.ingested).toBe(8);
    expect(summary.skipped.map((s) => s.file).sort()).toEqual(['cat/broken.jpg', 'notes.txt']);
    expect(summary.skipped.find((s) => s.file === 'cat/broken.jpg')!.reason).toMatch(/truncated/);
    expect(summary.bytes).toBe(Object.values(fixture.files).reduce((n, b) => n + b.byteLength, 0));
    expect(summary.commits).toBe(1);
    expect(seen.at(-1)).toMatchObject({ phase: 'ingest', unit: 'files', done: 9, total: 9, skipped: 1, etaMs: 0 });
    expect(seen.at(-1)!.bytes).toBe(summary.bytes);
    expect(seen.every((p, i) => i === 0 || p.done > seen[i - 1].done)).toBe(true);
    const ds = await Dataset.open(target);
    await checkImageFolder(ds, fixture.files, false);
    await ds.close();

    const again = await ingest(folder, target);
    expect(again).toMatchObject({ ingested: 0, alreadyPresent: 8, commits: 0 });
    const ds2 = await Dataset.open(target);
    expect(ds2.version).toBe(ds.version);
    await ds2.close();
  });

  it('ImageFolder, link mode stores references that read back the same bytes', async () => {
    const target = path.join(dir, 'if-link');
    const summary = await ingest(folder, target, { link: true });
    expect(summary.ingested).toBe(8);
    expect(summary.skipped.map((s) => s.file)).toContain('cat/broken.jpg');
    const ds = await Dataset.open(target);
    await checkImageFolder(ds, fixture.files, true);
    const img = (await ds.row(1)).image as ImageCell;
    expect((await img.decode()).shape[2]).toBe(3);
    await ds.close();
  });

  it('table layouts (CSV, JSONL): labels, boxes, numbers and JSON columns; missing files skipped', async () => {
    for (const format of ['csv', 'jsonl'] as const) {
      const root = path.join(dir, `table-${format}`);
      const files = await writeTable(root, 6, format);
      if (format === 'csv')
        await writeFile(path.join(root, 'labels.csv'), `\nimg/missing.jpg,odd,"[[0,0,1,1]]",1,"{}"\n`, { flag: 'a' });
      const target = `memory://table-${format}-${Date.now()}`;
      const summary = await ingest(root, target, { commitEveryRows: 4 });
      expect(summary.ingested).toBe(6);
      expect(summary.commits).toBe(2);
      if (format === 'csv')
        expect(summary.skipped).toEqual([{ file: 'img/missing.jpg', reason: 'file not found in the source' }]);
      const ds = await Dataset.open(target);
      expect(ds.schema).toMatchObject({
        image: { htype: 'image' },
        label: { htype: 'class_label' },
        boxes: { htype: 'bbox' },
        score: { htype: 'generic', dtype: 'float64' },
        meta: { htype: 'json' },
      });
      const rows = await ds.toArray();
      rows.forEach((r, i) => {
        expect(r._source).toBe(`img/${String(i).padStart(3, '0')}.jpg`);
        expect(r).toMatchObject({
          label: i % 2 ? 'odd' : 'even',
          boxes: [[i, 1, i + 5, 9]],
          score: i / 4,
          meta: { i },
        });
      });
      expect(
        Buffer.compare(Buffer.from(await (rows[3].image as ImageCell).bytes()), Buffer.from(files['img/003.jpg'])),
      ).toBe(0);
      await ds.close();
    }
  });

  it('table layout from Parquet', async () => {
    const root = path.join(dir, 'table-parquet');
    const files = await writeTable(root, 3, 'csv');
    const { ParquetSchema, ParquetWriter } = parquetLib();
    const w = await ParquetWriter.openFile(
      new ParquetSchema({ path: { type: 'UTF8' }, category: { type: 'UTF8' }, weight: { type: 'DOUBLE' } }),
      path.join(root, 'meta.parquet'),
    );
    for (let i = 0; i < 3; i++)
      await w.appendRow({ path: Object.keys(files)[i], category: `k${i % 2}`, weight: i + 0.5 });
    await w.close();
    const target = `memory://table-pq-${Date.now()}`;
    const summary = await ingest(root, target, { table: 'meta.parquet', schema: { weight: 'float32' } });
    expect(summary.ingested).toBe(3);
    const ds = await Dataset.open(target);
    expect(ds.schema.category.htype).toBe('class_label');
    expect(ds.schema.weight).toMatchObject({ htype: 'generic', dtype: 'float32' });
    expect(await ds.values('weight')).toEqual([0.5, 1.5, 2.5]);
    expect(await ds.values('category')).toEqual(['k0', 'k1', 'k0']);
    await ds.close();
  });

  it('abort via signal rejects ABORTED and keeps only whole commits', async () => {
    const root = path.join(dir, 'abort');
    await writeTable(root, 12, 'csv');
    const target = path.join(dir, 'abort-ds');
    const ac = new AbortController();
    await expect(
      ingest(root, target, {
        commitEveryRows: 3,
        concurrency: 1,
        signal: ac.signal,
        onProgress: (p) => p.done === 7 && ac.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    const ds = await Dataset.open(target);
    expect(ds.length).toBe(6);
    expect(await ds.values('_source')).toHaveLength(6);
    await ds.close();
    const rest = await ingest(root, target);
    expect(rest).toMatchObject({ ingested: 6, alreadyPresent: 6 });
  });

  it('an ingest killed with SIGKILL halfway leaves a consistent dataset; re-running lands every file exactly once', async () => {
    const root = path.join(dir, 'kill');
    const files = await writeTable(root, 40, 'csv');
    const target = path.join(dir, 'kill-ds');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'ingest-child.ts'), root, target],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killedAt = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const done = Number(buf.trim().split('\n').at(-1));
        if (done >= 18) {
          child.kill('SIGKILL');
          resolve(done);
        }
      });
      child.on(
        'exit',
        (code, sig) => sig !== 'SIGKILL' && reject(new Error(`child exited ${code} before the kill: ${err}`)),
      );
    });
    await new Promise((r) => child.once('exit', r));
    expect(killedAt).toBeLessThan(40);
    const partial = await Dataset.open(target);
    expect(partial.length).toBeGreaterThanOrEqual(16);
    expect(partial.length).toBeLessThan(40);
    expect(partial.length % 4).toBe(0);
    const counts = await sourceMap(partial);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    await partial.close();

    const summary = await ingest(root, target, { commitEveryRows: 4 });
    expect(summary.ingested + summary.alreadyPresent).toBe(40);
    const ds = await Dataset.open(target);
    expect(ds.length).toBe(40);
    const all = await sourceMap(ds);
    expect([...all.keys()].sort()).toEqual(Object.keys(files).sort());
    expect([...all.values()].every((c) => c === 1)).toBe(true);
    const rows = await ds.toArray();
    for (const r of rows)
      expect(
        Buffer.compare(Buffer.from(await (r.image as ImageCell).bytes()), Buffer.from(files[r._source as string])),
      ).toBe(0);
    await ds.close();
  });
});

describe('ingest from S3', () => {
  let prefix: string;
  beforeAll(async () => {
    prefix = s3.uri('src-folder');
    const store = await openStorage(prefix, { s3: s3.s3Options });
    for (const [k, v] of Object.entries(fixture.files)) await store.put(k, v);
    await store.put('cat/broken.jpg', (await makeJpeg({ width: 64, height: 48, seed: 99 })).slice(0, 300));
    await store.close();
  });

  it('ImageFolder from an S3 prefix, copy mode, into S3', async () => {
    const target = s3.uri(`ds-copy-${Date.now()}`);
    const summary = await ingest(prefix, target, { s3: s3.s3Options });
    expect(summary.ingested).toBe(8);
    expect(summary.skipped).toEqual([expect.objectContaining({ file: 'cat/broken.jpg' })]);
    const ds = await Dataset.open(target, { s3: s3.s3Options });
    await checkImageFolder(ds, fixture.files, false);
    await ds.close();
  });

  it('table layout (CSV) from an S3 prefix', async () => {
    const local = path.join(dir, 's3-table-src');
    const files = await writeTable(local, 5, 'csv');
    const store = await openStorage(s3.uri('src-table'), { s3: s3.s3Options });
    for (const [k, v] of Object.entries(files)) await store.put(k, v);
    await store.put('labels.csv', new Uint8Array(await readFile(path.join(local, 'labels.csv'))));
    await store.close();
    const target = `memory://s3-table-${Date.now()}`;
    const summary = await ingest(s3.uri('src-table'), target, { s3: s3.s3Options });
    expect(summary).toMatchObject({ ingested: 5, skipped: [] });
    const ds = await Dataset.open(target);
    expect(await ds.values('label')).toEqual(['even', 'odd', 'even', 'odd', 'even']);
    expect(await ds.values('boxes')).toEqual([0, 1, 2, 3, 4].map((i) => [[i, 1, i + 5, 9]]));
    await ds.close();
  });

  it('ImageFolder from an S3 prefix, link mode (links resolve with the options given at open)', async () => {
    const target = `memory://s3-link-${Date.now()}`;
    const summary = await ingest(prefix, target, { s3: s3.s3Options, link: true });
    expect(summary.ingested).toBe(8);
    const ds = await Dataset.open(target, { links: { s3: s3.s3Options } });
    await checkImageFolder(ds, fixture.files, true);
    expect((await ds.values('_source')).length).toBe(8);
    await ds.close();
  });
});

describe('ingest helpers', () => {
  it('CSV parsing', () => {
    expect(parseCsv('a,b\n"x, ""y""",2\r\n,true\n')).toEqual([
      { a: 'x, "y"', b: 2 },
      { a: null, b: true },
    ]);
  });

  it('bad options and sources fail with stable codes', async () => {
    await expect(ingest(folder, 'memory://x', { concurrency: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(ingest(folder, 'memory://y', { layout: 'table', table: 'nope.csv' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const ac = new AbortController();
    ac.abort();
    await expect(ingest(folder, 'memory://z', { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
