/**
 * bench/decode.ts — issue 4: model-ready batches vs sharp alone.
 *
 *  1. 2,000 photo-like JPEGs, 640×480, ~40 KB (100 seeded "scene" images of 704×528, each cropped at
 *     20 seeded offsets, so every file is different), stored in a local dataset;
 *  2. the same bytes decoded and resized to 224×224 (cover) with sharp alone, from memory, at
 *     concurrency 1, 2, 4, 8 and 16 (twice) — the best concurrency is the baseline — then 6 adjacent
 *     pairs of (sharp alone at that concurrency, `ds.batches({ batchSize: 32, decode: { image:
 *     { size: [224, 224] } } })` with default options: reads from storage, CRC checks, decode, copy
 *     into the batch tensor), alternating which goes first. `ratio` is the median of the 6 pair
 *     ratios (robust when load from other processes favours one side for a while); best/best is
 *     reported too.
 *     Both use Strata's sharp settings (configureSharp: one libvips thread per image, no cache), so
 *     the ratio is the loader's overhead.
 *  3. peak RSS of a child process scanning a >= 1 GiB dataset (large noise JPEGs, repeated) through
 *     `ds.batches` with decode to float32 NCHW, sampled every 20 ms.
 *
 *   npx tsx bench/decode.ts            (or: npm run bench -- decode)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { Dataset } from '../src/dataset/dataset.js';
import { configureSharp } from '../src/media/image.js';
import { makePixels } from '../test/helpers/media.js';

const N = 2000;
const SCENES = 100;
const BATCH = 32;
const SIZE = 224;
const BIG_TARGET_BYTES = 1.05 * 1024 ** 3;

async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

async function makeImages(): Promise<Buffer[]> {
  const scenes = Array.from({ length: SCENES }, (_, s) =>
    makePixels({ width: 704, height: 528, seed: 1000 + s, pattern: 'scene' }),
  );
  return pool(N, 4, async (i) => {
    const px = scenes[i % SCENES];
    const k = Math.floor(i / SCENES);
    return sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } })
      .extract({ left: (k * 3) % 64, top: (k * 7) % 48, width: 640, height: 480 })
      .jpeg({ quality: 80 })
      .toBuffer();
  });
}

async function sharpAlone(images: Buffer[], concurrency: number): Promise<number> {
  const t = performance.now();
  await pool(images.length, concurrency, (i) =>
    sharp(images[i], { failOn: 'error' })
      .resize({ width: SIZE, height: SIZE, fit: 'cover' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer(),
  );
  return images.length / ((performance.now() - t) / 1000);
}

async function viaBatches(ds: Dataset): Promise<number> {
  const t = performance.now();
  let n = 0;
  for await (const b of ds.batches({
    columns: ['image'],
    batchSize: BATCH,
    decode: { image: { size: [SIZE, SIZE], fit: 'cover' } },
  })) {
    n += b.indices.length;
  }
  if (n !== N) throw new Error(`batches yielded ${n} rows, expected ${N}`);
  return n / ((performance.now() - t) / 1000);
}

/** Child mode: scan the dataset at argv[3] with decode and print the peak RSS in MiB. */
async function scanChild(uri: string): Promise<void> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const ds = await Dataset.open(uri);
  const t = performance.now();
  let rows = 0;
  for await (const b of ds.batches({
    columns: ['image'],
    batchSize: BATCH,
    dtype: 'float32',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    decode: { image: { size: [SIZE, SIZE] } },
  })) {
    rows += b.indices.length;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  clearInterval(timer);
  await ds.close();
  process.stdout.write(
    JSON.stringify({ peak_rss_mb: peak / 2 ** 20, rows, seconds: (performance.now() - t) / 1000 }) + '\n',
  );
}

async function buildBig(uri: string): Promise<{ bytes: number; rows: number }> {
  const unique = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      sharp({
        create: {
          width: 1600,
          height: 1200,
          channels: 3,
          background: { r: 0, g: 0, b: 0 },
          noise: { type: 'gaussian', mean: 100 + i * 5, sigma: 60 },
        },
      })
        .jpeg({ quality: 90 })
        .toBuffer(),
    ),
  );
  const ds = await Dataset.create(uri, { schema: { image: { htype: 'image', sampleCompression: 'jpeg' } } });
  let bytes = 0;
  let rows = 0;
  while (bytes < BIG_TARGET_BYTES) {
    const img = unique[rows % unique.length];
    await ds.append({ image: img });
    bytes += img.byteLength;
    rows++;
  }
  await ds.commit('1 GiB of images');
  await ds.close();
  return { bytes, rows };
}

interface ScanResult {
  peak_rss_mb: number;
  rows: number;
  seconds: number;
}

function runChild(uri: string): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    const here = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, ['--import', 'tsx', here, '--scan', uri], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: path.dirname(path.dirname(here)),
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ScanResult)
        : reject(new Error(`scan child exited with ${code}`)),
    );
  });
}

export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'strata-bench-decode-'));
  try {
    const tGen = performance.now();
    const images = await makeImages();
    const avgKb = images.reduce((n, b) => n + b.byteLength, 0) / N / 1024;
    const uri = path.join(dir, 'small');
    const ds = await Dataset.create(uri, {
      schema: { image: { htype: 'image', sampleCompression: 'jpeg' }, label: 'int32' },
    });
    for (let i = 0; i < N; i += 200)
      await ds.append(images.slice(i, i + 200).map((image, j) => ({ image, label: (i + j) % 10 })));
    await ds.commit('bench images');
    const genS = (performance.now() - tGen) / 1000;

    configureSharp();
    // Phase 1: sharp alone at each concurrency, twice; the best concurrency is the baseline.
    const concurrencies = [1, 2, 4, 8, 16];
    const alone: Record<number, number> = {};
    for (let round = 0; round < 2; round++)
      for (const c of concurrencies) alone[c] = Math.max(alone[c] ?? 0, await sharpAlone(images, c));
    const bestC = concurrencies.reduce((a, b) => (alone[b] > alone[a] ? b : a));
    // Phase 2: adjacent pairs (sharp alone at bestC, ds.batches), alternating which goes first, so
    // both sides get the same number of runs under the same machine load; best of each.
    const ROUNDS = 6;
    let aloneBest = 0;
    let batchesBest = 0;
    const pairRatios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let a: number;
      let b: number;
      if (round % 2 === 0) {
        a = await sharpAlone(images, bestC);
        b = await viaBatches(ds);
      } else {
        b = await viaBatches(ds);
        a = await sharpAlone(images, bestC);
      }
      aloneBest = Math.max(aloneBest, a);
      batchesBest = Math.max(batchesBest, b);
      pairRatios.push(b / a);
    }
    pairRatios.sort((x, y) => x - y);
    const medianPair = (pairRatios[(ROUNDS - 1) >> 1] + pairRatios[ROUNDS >> 1]) / 2;

    const bigUri = path.join(dir, 'big');
    const tBig = performance.now();
    const big = await buildBig(bigUri);
    const bigBuildS = (performance.now() - tBig) / 1000;
    const scan = await runChild(bigUri);

    const figures = {
      batches_img_s: batchesBest,
      sharp_alone_img_s: aloneBest,
      sharp_alone_best_concurrency: bestC,
      ratio: medianPair,
      ratio_best_over_best: batchesBest / aloneBest,
      peak_rss_mb: scan.peak_rss_mb,
      scan_dataset_gb: big.bytes / 1024 ** 3,
      scan_img_s: scan.rows / scan.seconds,
    };
    const f = (n: number, d = 0) => n.toFixed(d);
    console.log('');
    console.log(
      `data: ${N} JPEGs 640×480, mean ${f(avgKb, 1)} KB (generated + stored in ${f(genS, 1)} s); ${availableParallelism()} cores, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
    );
    console.log(
      `sharp alone (memory → 224×224 raw), phase 1: ${concurrencies.map((c) => `c=${c}: ${f(alone[c])} img/s`).join(', ')}`,
    );
    console.log(
      `phase 2, ${ROUNDS} alternating pairs: sharp alone c=${bestC} best ${f(aloneBest)} img/s; ds.batches (storage → 224×224 uint8 NHWC, batch ${BATCH}, defaults) best ${f(batchesBest)} img/s`,
    );
    console.log(
      `ratio ${f(figures.ratio, 2)} (median of the pair ratios; target >= 0.9), best/best ${f(figures.ratio_best_over_best, 2)}; machine load ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`,
    );
    console.log(
      `1 GiB scan: ${big.rows} JPEGs 1600×1200 (${f(figures.scan_dataset_gb, 2)} GiB, built in ${f(bigBuildS, 1)} s), float32 NCHW batches at ${f(figures.scan_img_s)} img/s, peak RSS ${f(scan.peak_rss_mb)} MB (target < 500)`,
    );
    const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
    console.log(JSON.stringify(rounded));
    return rounded;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const main = process.argv[2] === '--scan' ? scanChild(process.argv[3]) : run();
  main.catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
