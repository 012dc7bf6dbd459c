import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/dataset/dataset.js';
import { startViewer, type Viewer } from '../../src/serve/viewer.js';
import { toFractionalLtrb } from '../../src/serve/viewer-data.js';
import { ByteLru } from '../../src/serve/viewer-cache.js';
import { frameIndexFromColor } from '../helpers/media.js';
import { makeVideoDataset, makeViewerDataset } from './viewer-fixture.js';

let dir: string;
let ds: Dataset;
let videos: Dataset;
let viewer: Viewer;
let videoViewer: Viewer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-viewer-'));
  ds = await makeViewerDataset(join(dir, 'images'), 60);
  videos = await makeVideoDataset(join(dir, 'videos'));
  viewer = await startViewer(ds, { pageSize: 24 });
  videoViewer = await startViewer(videos);
});

afterAll(async () => {
  await viewer?.close();
  await videoViewer?.close();
  await ds?.close();
  await videos?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The parts of the viewer's JSON responses these tests read (any one response has some of them). */
interface BodyJson {
  total: number;
  columns: { name: string }[];
  rows: { row: number; label: string; score: number; boxes: number[][]; media: unknown }[];
  values: { value: string; count: number }[];
  error: { code: string };
}

async function get(v: Viewer, path: string): Promise<{ status: number; body: BodyJson; bytes: Buffer; type: string }> {
  const res = await v.app.inject({ method: 'GET', url: path });
  const type = String(res.headers['content-type'] ?? '');
  return {
    status: res.statusCode,
    body: (type.includes('json') ? res.json() : undefined) as BodyJson,
    bytes: res.rawPayload,
    type,
  };
}

describe('viewer API', () => {
  it('binds loopback and serves the page and script', async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await get(viewer, '/');
    expect(page.status).toBe(200);
    expect(page.bytes.toString()).toContain('<script src="/app.js">');
    expect(page.bytes.toString()).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    const js = await get(viewer, '/app.js');
    expect(js.type).toContain('javascript');
  });

  it('describes columns and roles', async () => {
    const { body } = await get(viewer, '/api/info');
    expect(body).toMatchObject({
      length: 60,
      roles: { media: 'image', label: 'label', bbox: 'boxes', embedding: 'embedding' },
    });
    expect(body.columns.find((c) => c.name === 'label')).toMatchObject({
      kind: 'label',
      filterable: true,
      classNames: ['cat', 'dog', 'bird'],
    });
  });

  it('pages rows with media shapes and fractional boxes', async () => {
    const { body } = await get(viewer, '/api/rows?offset=24&limit=24');
    expect(body.total).toBe(60);
    expect(body.rows).toHaveLength(24);
    expect(body.rows[0]).toMatchObject({
      index: 24,
      row: 24,
      label: 'cat',
      media: { kind: 'image', width: 160, height: 120 },
    });
    // ltwh [16, 12, 64, 48] on 160×120 → ltrb fractions
    expect(body.rows[0].boxes[0]).toEqual(toFractionalLtrb([16 + (24 % 5) * 8, 12, 64, 48], 'ltwh', false, 160, 120));
    const last = await get(viewer, '/api/rows?offset=48&limit=24');
    expect(last.body.rows).toHaveLength(12);
  });

  it('filters by label and lists values', async () => {
    const values = await get(viewer, '/api/values?column=label');
    expect(values.body.values).toEqual(expect.arrayContaining([{ value: 'dog', count: 20 }]));
    const { body } = await get(viewer, `/api/rows?limit=100&filter=${encodeURIComponent('{"label":"dog"}')}`);
    expect(body.total).toBe(20);
    expect(body.rows.every((r) => r.label === 'dog')).toBe(true);
  });

  it('finds similar rows by the embedding column', async () => {
    const { body } = await get(viewer, '/api/similar?row=4&k=10');
    expect(body.rows).toHaveLength(10);
    expect(body.rows.map((r) => r.row)).not.toContain(4);
    expect(body.rows.every((r) => r.label === 'dog')).toBe(true);
    const scores = body.rows.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('serves cached JPEG thumbnails', async () => {
    const a = await get(viewer, '/api/thumb/image/5?size=64');
    expect(a.status).toBe(200);
    expect(a.type).toBe('image/jpeg');
    const meta = await sharp(a.bytes).metadata();
    expect(Math.max(meta.width, meta.height)).toBe(64);
    const hits = viewer.cache.hits;
    await get(viewer, '/api/thumb/image/5?size=64');
    expect(viewer.cache.hits).toBe(hits + 1);
  });

  it('serves video posters and exact frames for scrubbing', async () => {
    const poster = await get(videoViewer, '/api/thumb/clip/0?size=64');
    expect(poster.status).toBe(200);
    const frame = await get(videoViewer, '/api/frame/clip/1?t=1.0');
    expect(frame.type).toBe('image/jpeg');
    const { data } = await sharp(frame.bytes).resize(1, 1).raw().toBuffer({ resolveWithObject: true });
    expect(frameIndexFromColor(data)).toBe(12); // 1.0 s at 12 fps
    const rows = await get(videoViewer, '/api/rows');
    expect(rows.body.rows[0].media).toMatchObject({ kind: 'video', width: 64, height: 48, fps: 12 });
  });

  it('answers bad requests with a code', async () => {
    expect((await get(viewer, '/api/rows?limit=0')).body.error.code).toBe('INVALID_ARGUMENT');
    expect((await get(viewer, '/api/rows?filter=%7Bnope')).status).toBe(400);
    expect((await get(viewer, `/api/rows?filter=${encodeURIComponent('{"embedding":1}')}`)).status).toBe(400);
    expect((await get(viewer, '/api/thumb/label/1')).status).toBe(404);
    expect((await get(viewer, '/api/similar?row=999')).status).toBe(400);
    expect((await get(videoViewer, '/api/similar?row=0')).body.error.code).toBe('NOT_FOUND');
  });
});

describe('viewer options', () => {
  it('refuses an unknown media or embedding column', async () => {
    await expect(startViewer(ds, { mediaColumn: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(startViewer(ds, { embeddingColumn: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('ByteLru', () => {
  it('evicts least recently used entries past its byte budget', () => {
    const lru = new ByteLru(10);
    lru.set('a', new Uint8Array(4));
    lru.set('b', new Uint8Array(4));
    lru.get('a');
    lru.set('c', new Uint8Array(4));
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBeDefined();
    expect(lru.totalBytes).toBe(8);
  });
});
