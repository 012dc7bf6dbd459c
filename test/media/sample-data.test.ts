import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData, SHAPE_CLASSES, type SampleDataSummary } from '../../datasets/generate.js';
import { decodeImage, probeVideo, sniffImage, VideoReader } from '../../src/media/index.js';

let dir: string;
let summary: SampleDataSummary;

const parseCsv = (text: string): Array<Record<string, string>> => {
  const [head, ...lines] = text.trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
};

const hexRgb = (h: string): number[] => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-sample-'));
  summary = await generateSampleData(join(dir, 'a'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('generateSampleData', () => {
  it('writes an ImageFolder with a labels table whose boxes match the drawn shapes', async () => {
    expect(summary).toMatchObject({ images: 60, videos: 3, events: 5000 });
    const root = summary.outDir;
    expect((await readdir(join(root, 'images'))).sort()).toEqual([...SHAPE_CLASSES].sort());
    const labels = parseCsv(await readFile(join(root, 'labels.csv'), 'utf8'));
    expect(labels).toHaveLength(60);
    for (const cls of SHAPE_CLASSES) expect(labels.filter((r) => r.label === cls)).toHaveLength(20);
    expect(labels.some((r) => r.format === 'png')).toBe(true);
    for (const row of labels) {
      expect(row.path.startsWith(`images/${row.label}/`)).toBe(true);
      const bytes = await readFile(join(root, row.path));
      expect(sniffImage(bytes)).toMatchObject({ format: row.format, width: 128, height: 128, channels: 3 });
      const [l, t, r, b] = [row.bbox_left, row.bbox_top, row.bbox_right, row.bbox_bottom].map(Number);
      expect(0 <= l && l < r && r <= 128 && 0 <= t && t < b && b <= 128).toBe(true);
      const img = await decodeImage(bytes);
      const px = (x: number, y: number): number[] =>
        Array.from(img.data.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3));
      const fill = hexRgb(row.color);
      const dist = (p: number[]): number => Math.max(...p.map((v, i) => Math.abs(v - fill[i])));
      expect(dist(px((l + r) >> 1, (t + b) >> 1)), `${row.path} centre`).toBeLessThan(30);
      expect(dist(px(l > 1 ? 0 : 127, t > 1 ? 0 : 127)), `${row.path} corner`).toBeGreaterThan(30);
    }
    const jsonl = (await readFile(join(root, 'labels.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l): unknown => JSON.parse(l));
    expect(jsonl[0]).toMatchObject({
      path: labels[0].path,
      label: labels[0].label,
      bbox: [0, 1, 2, 3].map((i) => Number(Object.values(labels[0])[2 + i])),
    });
  });

  it('writes short videos whose per-frame boxes follow the shape', async () => {
    const root = summary.outDir;
    const videos = parseCsv(await readFile(join(root, 'videos.csv'), 'utf8'));
    expect(videos.map((v) => v.format)).toEqual(['mp4', 'mp4', 'webm']);
    const boxes = parseCsv(await readFile(join(root, 'video_frames.csv'), 'utf8'));
    for (const v of videos) {
      const info = await probeVideo(join(root, v.path));
      expect(info).toMatchObject({
        frameCount: Number(v.frames),
        fps: 10,
        width: 128,
        height: 96,
        format: v.format,
        codec: v.codec,
      });
      expect(info.durationS).toBeGreaterThanOrEqual(2);
      expect(info.durationS).toBeLessThanOrEqual(3);
      await using reader = await VideoReader.open(join(root, v.path));
      const k = Number(v.frames) - 3;
      const box = boxes.find((r) => r.path === v.path && Number(r.frame) === k)!;
      const f = await reader.frame(k);
      const [l, t, r, b] = [box.bbox_left, box.bbox_top, box.bbox_right, box.bbox_bottom].map(Number);
      const at = (x: number, y: number): number[] =>
        Array.from(f.data.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3));
      const centre = at((l + r) >> 1, (t + b) >> 1);
      const outside = at(l > 10 ? 2 : 125, t > 10 ? 2 : 93);
      expect(Math.max(...centre.map((c, i) => Math.abs(c - outside[i])))).toBeGreaterThan(40);
    }
  });

  it('writes a time-sorted event log', async () => {
    const events = parseCsv(await readFile(join(summary.outDir, 'events.csv'), 'utf8'));
    expect(events).toHaveLength(5000);
    const times = events.map((e) => Date.parse(e.event_timestamp));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    expect(times[times.length - 1] - times[0]).toBeGreaterThan(2 * 24 * 3600 * 1000);
    expect(new Set(events.map((e) => e.event_type))).toEqual(new Set(['view', 'click', 'purchase']));
    expect(events.filter((e) => e.event_type === 'purchase').every((e) => Number(e.amount) > 0)).toBe(true);
    expect(new Set(events.map((e) => e.user_id)).size).toBeGreaterThan(50);
  });

  it('is deterministic for a seed and varies with it', async () => {
    const again = await generateSampleData(join(dir, 'b'));
    expect(again.files).toEqual(summary.files);
    const other = await generateSampleData(join(dir, 'c'), { images: 6, videos: 0, events: 10, seed: 7 });
    expect(other.files.map((f) => f.path)).toContain('images/circle/circle_001.jpg');
    expect(other.files.find((f) => f.path === 'labels.csv')!.sha256).not.toBe(
      summary.files.find((f) => f.path === 'labels.csv')!.sha256,
    );
    const manifest: unknown = JSON.parse(await readFile(join(dir, 'c', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ seed: 7, images: 6, videos: 0, events: 10 });
  });
});
