/** What a first-time user gets wrong: a source path that does not exist, a corrupt file among good ones. */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/index.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { makeJpeg, truncate } from '../helpers/media.js';

let dir: string;
let s3: S3TestServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-ingest-missing-'));
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ingest of a source that does not exist', () => {
  it('a missing local folder is NOT_FOUND and creates nothing', async () => {
    const src = path.join(dir, 'no-such-folder');
    const dst = path.join(dir, 'never-created.strata');
    await expect(ingest(src, dst)).rejects.toMatchObject({ code: 'NOT_FOUND', details: { uri: src } });
    expect(existsSync(dst)).toBe(false);
    expect(existsSync(src)).toBe(false);
  });

  it('an S3 prefix with no objects is NOT_FOUND and creates nothing', async () => {
    const s3Options = {
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    };
    const dst = path.join(dir, 'never-created-either.strata');
    await expect(ingest(`s3://${s3.bucket}/nothing-here`, dst, { s3: s3Options })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(existsSync(dst)).toBe(false);
  });
});

describe('a corrupt file skipped by ingest', () => {
  it('is reported by its file name, not by a row it never got', async () => {
    const src = path.join(dir, 'one-bad');
    await mkdir(path.join(src, 'cat'), { recursive: true });
    // Listed first (a…) so that it would have been "row 0" of the new dataset.
    await writeFile(path.join(src, 'cat', 'a-broken.jpg'), truncate(await makeJpeg({ width: 64, height: 48 }), 300));
    await writeFile(path.join(src, 'cat', 'b-good.jpg'), await makeJpeg({ width: 32, height: 24 }));
    const summary = await ingest(src, 'memory://one-bad');
    expect(summary.ingested).toBe(1);
    expect(summary.skipped).toHaveLength(1);
    expect(summary.skipped[0].file).toBe('cat/a-broken.jpg');
    expect(summary.skipped[0].reason).toMatch(/truncated/);
    expect(summary.skipped[0].reason).not.toMatch(/\brow\b/);
  });
});
