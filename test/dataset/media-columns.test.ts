import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { type ImageCell, VideoCell } from '../../src/dataset/cells.js';
import { openStorage } from '../../src/storage/open.js';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { frameIndexOf, makeJpeg, makeVideo, truncate } from '../helpers/media.js';

describe.each(['local', 's3'] as const)('video columns on %s', (name) => {
  let backend: Backend;
  let video: Uint8Array;
  beforeAll(async () => {
    backend = await startBackend(name);
    video = await makeVideo({ frames: 30, fps: 10, width: 64, height: 48, format: 'mp4', gop: 10 });
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('stores videos as-is, knows their metadata, and decodes exactly the frame asked for', async () => {
    const uri = backend.uri();
    const ds = await Dataset.create(uri, { schema: { clip: { htype: 'video' }, name: 'text' }, ...backend.options });
    await ds.append([{ clip: video, name: 'a' }]);
    await ds.commit('video');
    await ds.close();
    await using opened = await Dataset.open(uri, backend.options);
    const cell = (await opened.row(0)).clip as VideoCell;
    expect(cell).toBeInstanceOf(VideoCell);
    expect(cell.info).toMatchObject({ fps: 10, frameCount: 30, width: 64, height: 48, format: 'mp4' });
    expect(cell.toString()).toBe('<video 3.0 s 10 fps 64×48>');
    expect(Buffer.from(await cell.bytes()).equals(Buffer.from(video))).toBe(true);
    for (const k of [0, 1, 9, 10, 17, 29]) {
      expect(frameIndexOf(await cell.frame(k)), `frame(${k})`).toBe(k);
      expect(frameIndexOf(await cell.frameAt(k / 10 + 0.02)), `frameAt(${k / 10})`).toBe(k);
    }
    const frames = await cell.frames({ count: 4 });
    expect(frames.map(frameIndexOf)).toEqual(frames.map((f) => f.index));
    expect(frames.length).toBe(4);
    expect((await opened.format()).includes('<video 3.0 s 10 fps 64×48>')).toBe(true);
  });

  it('rejects a truncated video at append, naming the row', async () => {
    const ds = await Dataset.create(backend.uri(), { schema: { clip: { htype: 'video' } }, ...backend.options });
    await ds.append({ clip: video });
    await expect(ds.append({ clip: truncate(video, Math.floor(video.length / 2)) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { row: 1, column: 'clip' },
    });
    await ds.close();
  });
});

describe('link columns', () => {
  let dir: string;
  let server: S3TestServer;
  let jpeg: Uint8Array;
  let video: Uint8Array;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-links-'));
    server = await startS3Server();
    jpeg = await makeJpeg({ width: 40, height: 30, seed: 5 });
    video = await makeVideo({ frames: 20, fps: 10, width: 32, height: 32, format: 'mp4' });
    await writeFile(path.join(dir, 'a.jpg'), jpeg);
    await writeFile(path.join(dir, 'v.mp4'), video);
    const s3 = await openStorage(server.uri('files'), { s3: server.s3Options });
    await s3.put('b.jpg', jpeg);
    await s3.put('v.mp4', video);
    await s3.close();
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('references local and S3 images and videos, fetched lazily through storage', async () => {
    const ds = await Dataset.create(`memory://links-${Date.now()}`, {
      links: { s3: server.s3Options },
      schema: { img: { htype: 'link', target: 'image' }, clip: { htype: 'link', target: 'video' } },
    });
    await ds.append([
      { img: path.join(dir, 'a.jpg'), clip: path.join(dir, 'v.mp4') },
      { img: `${server.uri('files')}/b.jpg`, clip: `${server.uri('files')}/v.mp4` },
    ]);
    await ds.commit('links');
    for (let i = 0; i < 2; i++) {
      const r = await ds.row(i);
      const img = r.img as ImageCell;
      expect(img.shape).toEqual([30, 40, 3]);
      expect(img.format).toBe('jpeg');
      expect(img.url).toBe(i === 0 ? path.join(dir, 'a.jpg') : `${server.uri('files')}/b.jpg`);
      expect(Buffer.from(await img.bytes()).equals(Buffer.from(jpeg))).toBe(true);
      expect((await img.decode()).shape).toEqual([30, 40, 3]);
      const clip = r.clip as VideoCell;
      expect(clip.info.frameCount).toBe(20);
      expect(frameIndexOf(await clip.frame(13))).toBe(13);
    }
    await expect(ds.append({ img: path.join(dir, 'missing.jpg') })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { row: 2 },
    });
    await ds.close();
  });
});
