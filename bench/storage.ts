/**
 * Storage benchmark (issue 2): scanning JPEG samples from chunked storage vs one file/object per
 * image vs one sequential read of the same bytes, warm random single-sample reads, and S3 ranged
 * reads against the loopback S3 server. Data is generated here. Run: `npm run bench -- storage`.
 * Cold raw and chunked runs are interleaved round by round, beside a plain read of the chunk files
 * (no checksum, no parsing): what this machine's disk gives for that file layout.
 */
import { mkdtemp, open, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import sharp from 'sharp';
import { Dataset } from '../src/dataset/dataset.js';
import type { ColumnManifest } from '../src/format/manifest.js';
import { ColumnReader } from '../src/format/column-reader.js';
import { openStorage } from '../src/storage/open.js';
import { startS3Server } from '../test/helpers/s3-server.js';
import { compareFormats } from './storage-formats.js';
import { coreOf } from '../src/dataset/internal.js';

const N = Number(process.env.BENCH_STORAGE_N ?? 10_000);
const N_S3 = Number(process.env.BENCH_STORAGE_S3_N ?? 2_000);
const CONCURRENCY = 8;
const COLD_ROUNDS = 4;
const DISTINCT = 200;

/** ~40 KB photo-like JPEGs (640×480 smooth blobs + grain), each made unique by a COM segment. */
async function makeImages(n: number): Promise<Uint8Array[]> {
  const base: Buffer[] = [];
  for (let k = 0; k < DISTINCT; k++) {
    const w = 640,
      h = 480,
      cell = 32;
    const gw = w / cell + 1,
      gh = h / cell + 1;
    let s = k * 7919 + 1;
    const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
    const grid = Float32Array.from({ length: gw * gh * 3 }, () => rand() * 255);
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const gx = x / cell,
          gy = y / cell,
          x0 = Math.floor(gx),
          y0 = Math.floor(gy),
          fx = gx - x0,
          fy = gy - y0;
        for (let c = 0; c < 3; c++) {
          const g = (xx: number, yy: number) => grid[(yy * gw + xx) * 3 + c];
          const v =
            g(x0, y0) * (1 - fx) * (1 - fy) +
            g(x0 + 1, y0) * fx * (1 - fy) +
            g(x0, y0 + 1) * (1 - fx) * fy +
            g(x0 + 1, y0 + 1) * fx * fy;
          px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, v + (rand() - 0.5) * 24));
        }
      }
    base.push(
      await sharp(px, { raw: { width: w, height: h, channels: 3 } })
        .jpeg({ quality: 80 })
        .toBuffer(),
    );
  }
  return Array.from({ length: n }, (_, i) => {
    const b = base[i % DISTINCT];
    const tag = Buffer.from(`strata-bench-${i}`);
    const com = Buffer.from([0xff, 0xfe, 0, tag.length + 2]);
    return new Uint8Array(Buffer.concat([b.subarray(0, 2), com, tag, b.subarray(2)]));
  });
}

/** Every file below `root`. */
function walk(root: string): string[] {
  return readdirSync(root).flatMap((n) => {
    const p = path.join(root, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * Drops the files' pages from the page cache (sync, then posix_fadvise DONTNEED, in one python3
 * process) so a scan reads from the device. Returns false when that is not possible here.
 */
function evict(roots: string[]): boolean {
  try {
    execFileSync('sync');
    const files = roots.flatMap((r) => (statSync(r).isDirectory() ? walk(r) : [r]));
    execFileSync(
      'python3',
      [
        '-c',
        'import os,sys\nfor p in sys.stdin.read().split("\\n"):\n  if p:\n    fd=os.open(p,os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)',
      ],
      { input: files.join('\n') },
    );
    return true;
  } catch {
    return false;
  }
}

async function timeIt(fn: () => Promise<number>): Promise<{ s: number; bytes: number }> {
  const t0 = performance.now();
  const bytes = await fn();
  return { s: (performance.now() - t0) / 1000, bytes };
}

async function best(times: number, fn: () => Promise<number>): Promise<{ s: number; bytes: number }> {
  let b = { s: Infinity, bytes: 0 };
  for (let i = 0; i < times; i++) {
    const r = await timeIt(fn);
    if (r.s < b.s) b = r;
  }
  return b;
}

async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<number>): Promise<number> {
  let next = 0;
  let total = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) total += await fn(items[next++]);
    }),
  );
  return total;
}

async function scanChunked(reader: ColumnReader, prefetch: number): Promise<number> {
  let bytes = 0;
  for await (const run of reader.scan(0, reader.length, { prefetchChunks: prefetch }))
    for (const s of run.samples) bytes += s!.bytes.byteLength;
  return bytes;
}

/**
 * Files one after another in `pieceBytes` reads into one reused buffer (no checksum, no parsing).
 * For the chunk files (1 MiB pieces): what reading this layout costs on this machine, before any
 * work of the scan. For the one file of all bytes (8 MiB pieces): the limit.
 */
async function readFiles(files: readonly string[], pieceBytes: number): Promise<number> {
  const buf = Buffer.allocUnsafe(pieceBytes);
  let n = 0;
  for (const file of files) {
    const fh = await open(file, 'r');
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    await fh.close();
  }
  return n;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'strata-bench-storage-'));
  try {
    console.log(`generating ${N} JPEGs (${DISTINCT} distinct 640×480 images, each made unique)...`);
    const images = await makeImages(N);
    const totalBytes = images.reduce((n, b) => n + b.byteLength, 0);
    console.log(`mean ${(totalBytes / N / 1024).toFixed(1)} KB, total ${(totalBytes / 2 ** 20).toFixed(0)} MB`);

    // Local: chunked dataset, one file per image, one file with all bytes.
    const uri = path.join(dir, 'ds');
    const ds = await Dataset.create(uri, { schema: { image: { htype: 'image', sampleCompression: 'jpeg' } } });
    for (let i = 0; i < N; i += 500) {
      await ds.append(images.slice(i, i + 500).map((image) => ({ image })));
    }
    await ds.commit('bench');
    await ds.close();
    const filesDir = path.join(dir, 'files');
    await mkdir(filesDir);
    await pool(
      images.map((b, i) => [b, i] as const),
      CONCURRENCY,
      async ([b, i]) => {
        await writeFile(path.join(filesDir, `${i}.jpg`), b);
        return 0;
      },
    );
    const rawPath = path.join(dir, 'raw.bin');
    await writeFile(rawPath, Buffer.concat(images));

    const storage = await openStorage(uri);
    const opened = await Dataset.open(uri, { storage });
    const column = await imageColumn(opened);
    const reader = new ColumnReader(storage, column);
    const chunked = await best(3, () => scanChunked(new ColumnReader(storage, column), CONCURRENCY));
    const files = await best(3, () =>
      pool(
        images.map((_, i) => i),
        CONCURRENCY,
        async (i) => (await readFile(path.join(filesDir, `${i}.jpg`))).byteLength,
      ),
    );
    const raw = await best(3, () => readFiles([rawPath], 8 * 2 ** 20));
    const mbps = (r: { s: number; bytes: number }) => r.bytes / 2 ** 20 / r.s;
    // Cold: each run starts with the bytes evicted from the page cache (reads come from the device).
    const cold = async (roots: string[], fn: () => Promise<number>, times = 3) =>
      best(times, async () => {
        if (!evict(roots)) throw new Error('cannot evict the page cache here (need sync + python3 posix_fadvise)');
        return fn();
      }).catch(() => timeIt(fn));
    const coldFiles = await cold([filesDir], () =>
      pool(
        images.map((_, i) => i),
        CONCURRENCY,
        async (i) => (await readFile(path.join(filesDir, `${i}.jpg`))).byteLength,
      ),
    );
    // Raw, chunked and a plain read of the chunk files, interleaved round by round (the VM's disk is
    // much faster some minutes than others); best of each, and each round's chunked / raw.
    const chunkFiles = column.chunks.map((c) => path.join(uri, c.key));
    let coldChunked = { s: Infinity, bytes: 0 };
    let coldRaw = { s: Infinity, bytes: 0 };
    let coldPlain = { s: Infinity, bytes: 0 };
    const pairs: string[] = [];
    for (let round = 0; round < COLD_ROUNDS; round++) {
      const r = await cold([rawPath], () => readFiles([rawPath], 8 * 2 ** 20), 1);
      const c = await cold([uri], () => scanChunked(new ColumnReader(storage, column), CONCURRENCY), 1);
      const p = await cold([uri], () => readFiles(chunkFiles, 2 ** 20), 1);
      if (r.s < coldRaw.s) coldRaw = r;
      if (c.s < coldChunked.s) coldChunked = c;
      if (p.s < coldPlain.s) coldPlain = p;
      pairs.push(
        `raw ${mbps(r).toFixed(0)}, chunked ${mbps(c).toFixed(0)}, chunk files plain ${mbps(p).toFixed(0)} MB/s`,
      );
    }

    // Warm random single-sample reads through the dataset's cache.
    const cached = await Dataset.open(uri, { cacheBytes: 512 * 2 ** 20 });
    const warmReader = new ColumnReader(coreOf(cached).storage, column);
    const hot = Array.from({ length: 2000 }, (_, i) => (i * 7919) % N);
    for (const i of hot) await warmReader.sample(i);
    const lat: number[] = [];
    for (let k = 0; k < 20_000; k++) {
      const i = hot[(k * 104729) % hot.length];
      const t0 = process.hrtime.bigint();
      await warmReader.sample(i);
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    lat.sort((a, b) => a - b);
    await cached.close();
    void reader;

    // S3 (loopback s3rver behind the test proxy): chunked vs one object per image, and overfetch.
    const server = await startS3Server();
    const s3uri = server.uri('bench-ds');
    const s3 = { s3: { ...server.s3Options } };
    const s3ds = await Dataset.create(s3uri, {
      schema: { image: { htype: 'image', sampleCompression: 'jpeg' } },
      ...s3,
    });
    for (let i = 0; i < N_S3; i += 500)
      await s3ds.append(images.slice(i, Math.min(N_S3, i + 500)).map((image) => ({ image })));
    await s3ds.commit('bench');
    await s3ds.close();
    const objects = await openStorage(server.uri('objects'), s3);
    await pool(
      images.slice(0, N_S3).map((b, i) => [b, i] as const),
      16,
      async ([b, i]) => {
        await objects.put(`${i}.jpg`, b);
        return 0;
      },
    );
    const s3storage = await openStorage(s3uri, s3);
    const s3open = await Dataset.open(s3uri, { storage: s3storage });
    const s3col = await imageColumn(s3open);
    const s3chunked = await best(2, () => scanChunked(new ColumnReader(s3storage, s3col), CONCURRENCY));
    const s3objects = await best(2, () =>
      pool(
        Array.from({ length: N_S3 }, (_, i) => i),
        CONCURRENCY,
        async (i) => (await objects.get(`${i}.jpg`)).byteLength,
      ),
    );
    // Overfetch: 100 random single samples, cold reader, no cache; bytes counted at the server.
    const coldReader = new ColumnReader(s3storage, s3col);
    const picks = Array.from({ length: 100 }, (_, k) => (k * 7907 + 13) % N_S3);
    server.resetStats();
    let needed = 0;
    for (const i of picks) needed += (await coldReader.sample(i))!.bytes.byteLength;
    const fetched = server.stats.bytesOut;
    await s3storage.close();
    await objects.close();
    await server.stop();

    console.log('format v1 vs v2 on the same images...');
    const formats = await compareFormats(dir, images, evict);

    const figures = {
      samples: N,
      mean_sample_kb: totalBytes / N / 1024,
      scan_MBps_chunked: mbps(coldChunked),
      scan_MBps_files: mbps(coldFiles),
      scan_MBps_raw: mbps(coldRaw),
      ratio_vs_files: mbps(coldChunked) / mbps(coldFiles),
      ratio_vs_raw: mbps(coldChunked) / mbps(coldRaw),
      scan_MBps_chunkfiles_plain: mbps(coldPlain),
      ratio_vs_chunkfiles_plain: mbps(coldChunked) / mbps(coldPlain),
      warm_scan_MBps_chunked: mbps(chunked),
      warm_scan_MBps_files: mbps(files),
      warm_scan_MBps_raw: mbps(raw),
      warm_ratio_vs_files: mbps(chunked) / mbps(files),
      warm_ratio_vs_raw: mbps(chunked) / mbps(raw),
      random_read_us_p50: quantile(lat, 0.5),
      random_read_us_p99: quantile(lat, 0.99),
      s3_samples: N_S3,
      s3_scan_MBps_chunked: mbps(s3chunked),
      s3_scan_MBps_objects: mbps(s3objects),
      s3_ratio: mbps(s3chunked) / mbps(s3objects),
      s3_bytes_overfetch: fetched / needed,
      ...formats,
    };
    console.table({
      'cold: chunked scan (MB/s)': figures.scan_MBps_chunked.toFixed(0),
      'cold: one file per image (MB/s)': figures.scan_MBps_files.toFixed(0),
      'cold: one sequential read (MB/s)': figures.scan_MBps_raw.toFixed(0),
      'cold: chunked / files (target >= 3)': figures.ratio_vs_files.toFixed(2),
      'cold: chunked / raw (target >= 0.7)': figures.ratio_vs_raw.toFixed(2),
      'cold: chunk files read plainly (MB/s)': figures.scan_MBps_chunkfiles_plain.toFixed(0),
      'cold: chunked / chunk files plain': figures.ratio_vs_chunkfiles_plain.toFixed(2),
      'warm: chunked / files': figures.warm_ratio_vs_files.toFixed(2),
      'warm: chunked / raw (raw = memcpy from page cache)': figures.warm_ratio_vs_raw.toFixed(2),
      'random read p50 µs (target < 100)': figures.random_read_us_p50.toFixed(1),
      'random read p99 µs': figures.random_read_us_p99.toFixed(1),
      [`S3 chunked scan, ${N_S3} samples (MB/s)`]: figures.s3_scan_MBps_chunked.toFixed(1),
      'S3 one object per image (MB/s)': figures.s3_scan_MBps_objects.toFixed(1),
      'S3 ratio (target >= 20)': figures.s3_ratio.toFixed(1),
      'S3 bytes fetched / needed, 100 random (target <= 1.2)': figures.s3_bytes_overfetch.toFixed(3),
      'format v2 / v1 cold scan (target >= 0.95)': formats.fmt_v2_vs_v1_cold_scan.toFixed(3),
      'format v2 / v1 warm scan (target >= 0.95)': formats.fmt_v2_vs_v1_warm_scan.toFixed(3),
      'format v1 / v2 random read p50 (target >= 0.95)': formats.fmt_v1_vs_v2_random_read_p50.toFixed(3),
    });
    console.log(`cold rounds (interleaved; figures are the best of ${COLD_ROUNDS}):\n  ${pairs.join('\n  ')}`);
    console.log(
      `cold = page cache evicted before each run (posix_fadvise DONTNEED), warm = repeated from page cache; concurrency ${CONCURRENCY} for chunk prefetch and file reads; S3 is s3rver on loopback.`,
    );
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then(
    (f) => console.log(JSON.stringify(f)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** The image column of a one-commit dataset (one segment of one fragment) as a plain chunk list. */
async function imageColumn(ds: Dataset): Promise<ColumnManifest> {
  const schema = ds.columnInfo('image');
  const [slot] = await coreOf(ds).version.allFragments();
  const [segment] = (await coreOf(ds).version.fragment(slot.ref)).columns[schema.id];
  return { ...schema, length: segment.rows, chunks: segment.chunks };
}
