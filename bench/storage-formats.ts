/**
 * Format v1 vs v2 on the same bytes (issue 18: keep storage figures within 5% of v1). Both datasets
 * get the same images in the same commits (20 of N/20 rows): v1 through the v1 writer kept for
 * fixtures (src/format/transaction.ts) and read as v1 datasets were (one chunk list per column,
 * ColumnReader); v2 through TransactionV2 and read through fragments (VersionColumnReader), as
 * datasets read today. Cold scans are interleaved round by round.
 */
import path from 'node:path';
import { ColumnReader } from '../src/format/column-reader.js';
import { readLatestAnyManifest, writeLatestHint } from '../src/format/latest.js';
import { type ColumnSchema, type ManifestV2, emptyManifestV2, encodeManifestV2 } from '../src/format/manifest-v2.js';
import { type Manifest, emptyManifest, versionKey } from '../src/format/manifest.js';
import { Transaction } from '../src/format/transaction.js';
import { TransactionV2 } from '../src/format/transaction-v2.js';
import { VersionColumnReader } from '../src/format/version-column-reader.js';
import { VersionReader } from '../src/format/version-reader.js';
import { publishManifest } from '../src/format/versions.js';
import { openStorage } from '../src/storage/open.js';

const COMMITS = 20;
const ROUNDS = 4;
const IMAGE: ColumnSchema = {
  name: 'image',
  id: 'c0',
  htype: 'image',
  dtype: 'uint8',
  sampleCompression: 'jpeg',
  chunkCompression: 'none',
  meta: {},
};

interface Scanner {
  scan(): Promise<number>;
  sample(i: number): Promise<number>;
}

async function writeV1(root: string, images: readonly Uint8Array[]): Promise<Scanner> {
  const storage = await openStorage(root);
  let m: Manifest = { ...emptyManifest('bench v1'), columns: [{ ...IMAGE, length: 0, chunks: [] }] };
  await publishManifest(storage, m);
  const per = Math.ceil(images.length / COMMITS);
  for (let s = 0; s < images.length; s += per) {
    const txn = new Transaction(storage, m, { writer: 'bench v1' });
    for (const bytes of images.slice(s, s + per)) await txn.appendRow({ image: { bytes, shape: [480, 640, 3] } });
    m = await txn.commit(`rows ${s}..`);
  }
  const open = async (cacheBytes: number) => new ColumnReader(await openStorage(root, { cacheBytes }), m.columns[0]);
  return scanner(open);
}

async function writeV2(root: string, images: readonly Uint8Array[]): Promise<Scanner> {
  const storage = await openStorage(root);
  await storage.putIfAbsent(versionKey(0), encodeManifestV2(emptyManifestV2('bench v2', [IMAGE])));
  await writeLatestHint(storage, 0);
  const per = Math.ceil(images.length / COMMITS);
  let m = (await readLatestAnyManifest(storage)) as ManifestV2;
  for (let s = 0; s < images.length; s += per) {
    const txn = new TransactionV2(storage, new VersionReader(storage, m), { writer: 'bench v2' });
    for (const bytes of images.slice(s, s + per)) await txn.appendRow({ image: { bytes, shape: [480, 640, 3] } });
    m = (await txn.commit(`rows ${s}..`)) as ManifestV2;
  }
  const open = async (cacheBytes: number) =>
    new VersionColumnReader(new VersionReader(await openStorage(root, { cacheBytes }), m), IMAGE);
  return scanner(open);
}

/** Scans and single-sample reads over a fresh reader (scan: no cache; samples: a 512 MiB cache). */
function scanner(
  open: (cacheBytes: number) => Promise<ColumnReader | VersionColumnReader>,
): Scanner & { warm?: ColumnReader | VersionColumnReader } {
  let warm: ColumnReader | VersionColumnReader | undefined;
  return {
    async scan() {
      const r = await open(0);
      let bytes = 0;
      for await (const run of r.scan(0, r.length, { prefetchChunks: 8 }))
        for (const s of run.samples) bytes += s!.bytes.byteLength;
      return bytes;
    },
    async sample(i) {
      warm ??= await open(512 * 2 ** 20);
      return (await warm.sample(i))!.bytes.byteLength;
    },
  };
}

/** v1 and v2 figures and their ratios (v2 / v1; for latency v1 / v2, so > 1 is better for v2 either way). */
export async function compareFormats(
  dir: string,
  images: readonly Uint8Array[],
  evict: (roots: string[]) => boolean,
): Promise<Record<string, number>> {
  const roots = { v1: path.join(dir, 'fmt-v1'), v2: path.join(dir, 'fmt-v2') };
  const v1 = await writeV1(roots.v1, images);
  const v2 = await writeV2(roots.v2, images);
  const mbps = (bytes: number, ms: number) => bytes / 2 ** 20 / (ms / 1000);
  const timed = async (fn: () => Promise<number>) => {
    const t0 = performance.now();
    const bytes = await fn();
    return mbps(bytes, performance.now() - t0);
  };
  const best = { coldV1: 0, coldV2: 0, warmV1: 0, warmV2: 0 };
  const coldV1 = async () =>
    (best.coldV1 = Math.max(best.coldV1, evict([roots.v1]) ? await timed(() => v1.scan()) : 0));
  const coldV2 = async () =>
    (best.coldV2 = Math.max(best.coldV2, evict([roots.v2]) ? await timed(() => v2.scan()) : 0));
  for (let round = 0; round < ROUNDS; round++) {
    // alternate which format goes first (the disk's speed drifts within minutes)
    if (round % 2 === 0) await coldV1().then(coldV2);
    else await coldV2().then(coldV1);
    best.warmV1 = Math.max(best.warmV1, await timed(() => v1.scan()));
    best.warmV2 = Math.max(best.warmV2, await timed(() => v2.scan()));
  }
  const latency = async (s: Scanner) => {
    const hot = Array.from({ length: 2000 }, (_, i) => (i * 7919) % images.length);
    for (const i of hot) await s.sample(i);
    const lat: number[] = [];
    for (let k = 0; k < 20_000; k++) {
      const t0 = process.hrtime.bigint();
      await s.sample(hot[(k * 104729) % hot.length]);
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    return lat.sort((a, b) => a - b)[lat.length >> 1];
  };
  const p50v1 = await latency(v1);
  const p50v2 = await latency(v2);
  return {
    fmt_v1_cold_scan_MBps: best.coldV1,
    fmt_v2_cold_scan_MBps: best.coldV2,
    fmt_v2_vs_v1_cold_scan: best.coldV1 ? best.coldV2 / best.coldV1 : 0,
    fmt_v1_warm_scan_MBps: best.warmV1,
    fmt_v2_warm_scan_MBps: best.warmV2,
    fmt_v2_vs_v1_warm_scan: best.warmV2 / best.warmV1,
    fmt_v1_random_read_us_p50: p50v1,
    fmt_v2_random_read_us_p50: p50v2,
    fmt_v1_vs_v2_random_read_p50: p50v1 / p50v2,
  };
}
