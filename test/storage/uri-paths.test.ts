import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { S3Storage, openStorage, parseUri } from '../../src/storage/index.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

let s3: S3TestServer;
let tmp = '';
beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  s3 = await startS3Server();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-uri-'));
});
afterAll(async () => {
  await s3?.stop();
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe('. and .. segments in storage URIs', () => {
  it('are INVALID_ARGUMENT for s3, memory and file URIs (plain and percent-encoded)', () => {
    const bad = [
      's3://bucket/../other/key',
      's3://bucket/a/./b',
      's3://bucket/a/..',
      's3://bucket/%2e%2e/other',
      's3://bucket/.%2E/other',
      'memory://a/../b',
      'file:///tmp/a/../b',
      'file:///tmp/%2e%2e/b',
    ];
    for (const uri of bad) {
      let thrown: unknown;
      try {
        parseUri(uri);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, uri).toMatchObject({ code: 'INVALID_ARGUMENT', details: { uri } });
    }
    expect(() => new S3Storage('s3://bucket/../other')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // Names merely containing dots are fine.
    expect(parseUri('s3://bucket/v1.2/..x/.hidden')).toEqual({
      scheme: 's3',
      bucket: 'bucket',
      prefix: 'v1.2/..x/.hidden',
    });
  });

  it('s3://bucket/../other/key cannot write outside the bucket (loopback S3)', async () => {
    const uri = `s3://${s3.bucket}/../other/key`;
    const before = s3.stats.byMethod.PUT ?? 0;
    await expect(openStorage(uri, { s3: s3.s3Options })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(Dataset.create(uri, { schema: { t: 'text' }, s3: s3.s3Options })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(s3.stats.byMethod.PUT ?? 0).toBe(before);
  });
});

describe('keys with URL-special characters land exactly below the root on every backend', () => {
  const keys = ['sp ace/x', 'q?x=1#h', 'plus+amp&=', 'uni/é漢', 'pct%2e%2e/y', 'a%2Fb', 'semi;colon,comma'];

  it('s3: the object key is prefix/key, byte for byte', async () => {
    const store = await openStorage(s3.uri('enc/root'), { s3: s3.s3Options });
    const bucket = await openStorage(s3.uri(), { s3: s3.s3Options });
    for (const [i, k] of keys.entries()) await store.put(k, Uint8Array.of(i));
    for (const [i, k] of keys.entries()) expect(Array.from(await store.get(k))).toEqual([i]);
    expect(await store.list('')).toEqual([...keys].sort());
    expect((await bucket.list('')).filter((k) => !k.startsWith('enc/root/'))).toEqual([]);
    expect(await bucket.list('enc/root/')).toEqual(keys.map((k) => `enc/root/${k}`).sort());
    await store.close();
    await bucket.close();
  });

  it('local and memory: the same keys round-trip and list back unchanged', async () => {
    for (const uri of [path.join(tmp, 'enc'), 'memory://uri-paths-enc']) {
      const store = await openStorage(uri);
      for (const [i, k] of keys.entries()) await store.put(k, Uint8Array.of(i));
      for (const [i, k] of keys.entries()) expect(Array.from(await store.get(k))).toEqual([i]);
      expect(await store.list('')).toEqual([...keys].sort());
    }
    expect(await fsp.readFile(path.join(tmp, 'enc', 'pct%2e%2e', 'y'))).toEqual(Buffer.of(4));
  });
});
