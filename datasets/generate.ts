/**
 * Generates Strata's sample dataset: labelled shape images (ImageFolder + labels table), short
 * videos of a moving shape, and an event log for the features demo. Deterministic for a seed.
 *
 *   npx tsx datasets/generate.ts [outDir]        (default: datasets/sample)
 *
 * See datasets/README.md for the layout.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { runFfmpeg } from '../src/media/ffmpeg.js';
import { prng } from '../src/random.js';
import { EDGE_ORIENTATION_FILE, edgeOrientationModel } from './models/edge-orientation.js';
import { writeModel } from './models/onnx-builder.js';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

export interface SampleDataOptions {
  /** Labelled images, spread evenly over the classes. Default 60. */
  readonly images?: number;
  /** Short videos (2–3 s each). Default 3. */
  readonly videos?: number;
  /** Rows of events.csv. Default 5000. */
  readonly events?: number;
  /** Default 42. */
  readonly seed?: number;
  /** Image side in pixels. Default 128. */
  readonly imageSize?: number;
}

export interface SampleDataSummary {
  readonly outDir: string;
  readonly images: number;
  readonly videos: number;
  readonly events: number;
  /** Every file written, relative to outDir, with size and sha256. */
  readonly files: ReadonlyArray<{ path: string; bytes: number; sha256: string }>;
}

/** Bounding box, left/top/right/bottom in pixels (right/bottom exclusive). */
export type Ltrb = [number, number, number, number];

export const DEFAULT_OUT_DIR = fileURLToPath(new URL('./sample', import.meta.url));

const rng = prng;

const int = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const hex = (rgb: number[]): string => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** A saturated shape colour and a pale background that contrasts with it. */
function colours(rand: () => number): { fill: string; bg1: string; bg2: string } {
  const hue = rand() * 360;
  const fill = hsl(hue, 0.75, 0.45);
  const bgHue = (hue + 120 + rand() * 120) % 360;
  return { fill, bg1: hsl(bgHue, 0.35, 0.85), bg2: hsl((bgHue + 40) % 360, 0.35, 0.7) };
}

function hsl(h: number, s: number, l: number): string {
  const k = (n: number): number => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return hex([f(0), f(8), f(4)]);
}

/** SVG for one shape at an integer box; returns the markup and its exact bbox. */
function shapeSvg(shape: ShapeClass, x: number, y: number, size: number, fill: string): { svg: string; bbox: Ltrb } {
  const bbox: Ltrb = [x, y, x + size, y + size];
  if (shape === 'circle')
    return { svg: `<circle cx="${x + size / 2}" cy="${y + size / 2}" r="${size / 2}" fill="${fill}"/>`, bbox };
  if (shape === 'square')
    return { svg: `<rect x="${x}" y="${y}" width="${size}" height="${size}" fill="${fill}"/>`, bbox };
  return {
    svg: `<polygon points="${x + size / 2},${y} ${x + size},${y + size} ${x},${y + size}" fill="${fill}"/>`,
    bbox,
  };
}

function sceneSvg(w: number, h: number, c: { bg1: string; bg2: string }, body: string): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">` +
      `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${c.bg1}"/><stop offset="1" stop-color="${c.bg2}"/></linearGradient></defs>` +
      `<rect width="${w}" height="${h}" fill="url(#g)"/>${body}</svg>`,
  );
}

function csv(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cell = (v: string | number): string => {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

interface Writer {
  readonly root: string;
  write(path: string, data: Uint8Array | string): Promise<void>;
  /** Records a file something else (ffmpeg) wrote at `path`. */
  adopt(path: string): Promise<void>;
  readonly files: Array<{ path: string; bytes: number; sha256: string }>;
}

function writer(root: string): Writer {
  const files: Writer['files'] = [];
  const record = (path: string, bytes: Uint8Array): void => {
    files.push({ path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  };
  return {
    root,
    files,
    async write(path, data) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), bytes);
      record(path, bytes);
    },
    async adopt(path) {
      record(path, await readFile(join(root, path)));
    },
  };
}

async function generateImages(out: Writer, count: number, size: number, rand: () => number): Promise<string[]> {
  const header = [
    'path',
    'label',
    'bbox_left',
    'bbox_top',
    'bbox_right',
    'bbox_bottom',
    'width',
    'height',
    'format',
    'color',
    'split',
  ];
  const rows: Array<Array<string | number>> = [header];
  const jsonl: string[] = [];
  for (let i = 0; i < count; i++) {
    const label = SHAPE_CLASSES[i % SHAPE_CLASSES.length];
    const n = Math.floor(i / SHAPE_CLASSES.length);
    const side = int(rand, Math.round(size * 0.2), Math.round(size * 0.55));
    const x = int(rand, 2, size - side - 2);
    const y = int(rand, 2, size - side - 2);
    const c = colours(rand);
    const { svg, bbox } = shapeSvg(label, x, y, side, c.fill);
    const format = n % 5 === 4 ? 'png' : 'jpeg';
    const path = `images/${label}/${label}_${String(n).padStart(3, '0')}.${format === 'png' ? 'png' : 'jpg'}`;
    const img = sharp(sceneSvg(size, size, c, svg)).removeAlpha(); // the scene is opaque: store RGB
    const bytes = format === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: 90 }).toBuffer();
    await out.write(path, bytes);
    const split = rand() < 0.8 ? 'train' : 'val';
    rows.push([path, label, ...bbox, size, size, format, c.fill, split]);
    jsonl.push(JSON.stringify({ path, label, bbox, width: size, height: size, format, color: c.fill, split }));
  }
  await out.write('labels.csv', csv(rows));
  await out.write('labels.jsonl', jsonl.join('\n') + '\n');
  return rows.slice(1).map((r) => String(r[0]));
}

/** A shape gliding across a gradient; per-frame boxes go to video_frames.csv. */
async function generateVideos(out: Writer, count: number, rand: () => number): Promise<void> {
  const [w, h, fps] = [128, 96, 10];
  const videoRows: Array<Array<string | number>> = [
    ['path', 'label', 'duration_s', 'fps', 'frames', 'width', 'height', 'format', 'codec'],
  ];
  const frameRows: Array<Array<string | number>> = [
    ['path', 'frame', 'timestamp_s', 'label', 'bbox_left', 'bbox_top', 'bbox_right', 'bbox_bottom'],
  ];
  for (let v = 0; v < count; v++) {
    const label = SHAPE_CLASSES[v % SHAPE_CLASSES.length];
    const frames = [20, 25, 30][v % 3];
    const webm = v % 3 === 2;
    const path = `videos/clip_${String(v).padStart(2, '0')}_${label}.${webm ? 'webm' : 'mp4'}`;
    const c = colours(rand);
    const side = int(rand, 24, 36);
    const [x0, y0] = [int(rand, 0, 20), int(rand, 0, h - side)];
    const [x1, y1] = [int(rand, w - side - 20, w - side), int(rand, 0, h - side)];
    const raw: Buffer[] = [];
    for (let f = 0; f < frames; f++) {
      const t = f / (frames - 1);
      const x = Math.round(x0 + (x1 - x0) * t);
      const y = Math.round(y0 + (y1 - y0) * t);
      const { svg, bbox } = shapeSvg(label, x, y, side, c.fill);
      raw.push(
        await sharp(sceneSvg(w, h, c, svg))
          .removeAlpha()
          .raw()
          .toBuffer(),
      );
      frameRows.push([path, f, (f / fps).toFixed(3), label, ...bbox]);
    }
    const codec = webm
      ? ['-c:v', 'libvpx-vp9', '-crf', '32', '-b:v', '0', '-deadline', 'good', '-cpu-used', '4']
      : ['-c:v', 'libx264', '-preset', 'medium', '-crf', '23', '-movflags', '+faststart'];
    const file = join(out.root, path);
    await mkdir(dirname(file), { recursive: true });
    await runFfmpeg(
      [
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-s',
        `${w}x${h}`,
        '-r',
        String(fps),
        '-i',
        'pipe:0',
        ...codec,
        '-g',
        String(fps),
        '-pix_fmt',
        'yuv420p',
        '-threads',
        '1',
        '-fflags',
        '+bitexact',
        '-flags:v',
        '+bitexact',
        '-y',
        file,
      ],
      { stdin: raw, what: `encode ${path}` },
    );
    await out.adopt(path);
    videoRows.push([
      path,
      label,
      (frames / fps).toFixed(1),
      fps,
      frames,
      w,
      h,
      webm ? 'webm' : 'mp4',
      webm ? 'vp9' : 'h264',
    ]);
  }
  await out.write('videos.csv', csv(videoRows));
  await out.write('video_frames.csv', csv(frameRows));
}

/** ~`count` events over 3 days from 100 users with skewed activity, sorted by time. */
async function generateEvents(out: Writer, count: number, items: string[], rand: () => number): Promise<void> {
  const start = Date.UTC(2024, 0, 1);
  const spanMs = 3 * 24 * 3600 * 1000;
  const users = Array.from({ length: 100 }, (_, i) => `u${String(i + 1).padStart(3, '0')}`);
  const weights = users.map((_, i) => 1 / (i + 1) ** 0.8); // Zipf-like: a few heavy users
  const total = weights.reduce((a, b) => a + b, 0);
  const pickUser = (): string => {
    let r = rand() * total;
    for (let i = 0; i < users.length; i++) if ((r -= weights[i]) <= 0) return users[i];
    return users[users.length - 1];
  };
  const times = Array.from({ length: count }, () => start + Math.floor(rand() * spanMs)).sort((a, b) => a - b);
  const rows: Array<Array<string | number>> = [
    ['event_id', 'user_id', 'event_timestamp', 'event_type', 'item_path', 'amount'],
  ];
  times.forEach((t, i) => {
    const r = rand();
    const type = r < 0.7 ? 'view' : r < 0.9 ? 'click' : 'purchase';
    // Purchases: log-normal around 25 (median), two decimals.
    const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const amount = type === 'purchase' ? Math.exp(Math.log(25) + 0.6 * normal).toFixed(2) : '0.00';
    const item = items.length ? items[Math.floor(rand() * items.length)] : '';
    rows.push([`e${String(i + 1).padStart(6, '0')}`, pickUser(), new Date(t).toISOString(), type, item, amount]);
  });
  await out.write('events.csv', csv(rows));
}

/** Writes the sample data below outDir (replacing a previous run's files) and returns what it wrote. */
export async function generateSampleData(
  outDir: string = DEFAULT_OUT_DIR,
  options: SampleDataOptions = {},
): Promise<SampleDataSummary> {
  const { images = 60, videos = 3, events = 5000, seed = 42, imageSize = 128 } = options;
  for (const [name, v] of Object.entries({ images, videos, events, imageSize })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`generateSampleData: ${name} must be an integer >= 0, got ${v}`);
  }
  const root = resolve(outDir);
  for (const owned of [
    'images',
    'videos',
    'labels.csv',
    'labels.jsonl',
    'videos.csv',
    'video_frames.csv',
    'events.csv',
    'manifest.json',
  ]) {
    await rm(join(root, owned), { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });
  const out = writer(root);
  // Independent streams per part, so changing one count does not reshuffle the others.
  const items = await generateImages(out, images, imageSize, rng(seed));
  if (videos > 0) await generateVideos(out, videos, rng(seed + 1));
  await generateEvents(out, events, items, rng(seed + 2));
  const files = [...out.files].sort((a, b) => a.path.localeCompare(b.path));
  await writeFile(
    join(root, 'manifest.json'),
    JSON.stringify({ seed, images, videos, events, classes: SHAPE_CLASSES, files }, null, 2) + '\n',
  );
  return { outDir: root, images, videos, events, files };
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const started = Date.now();
  const outDir = process.argv[2] ?? DEFAULT_OUT_DIR;
  generateSampleData(outDir)
    .then(async (s) => {
      // The README tour's model: built here (nothing downloaded), beside the data it embeds.
      const model = join(s.outDir, 'models', EDGE_ORIENTATION_FILE);
      await writeModel(model, edgeOrientationModel());
      return s;
    })
    .then(
      (s) => {
        const mb = s.files.reduce((a, f) => a + f.bytes, 0) / 1e6;
        console.log(
          `sample data in ${s.outDir}: ${s.images} images, ${s.videos} videos, ${s.events} events, ${s.files.length} files, ${mb.toFixed(2)} MB, ${Date.now() - started} ms; model in models/${EDGE_ORIENTATION_FILE}`,
        );
      },
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exitCode = 1;
      },
    );
}
