/** The CLI takes S3 settings from the environment (AWS_*, AWS_ENDPOINT_URL_S3, STRATA_S3_FORCE_PATH_STYLE). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { errorCode, strata } from './run-cli.js';

let s3: S3TestServer;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  s3 = await startS3Server();
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-s3-'));
  await generateSampleData(join(dir, 'sample'), { images: 9, videos: 0, events: 0 });
  env = {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    STRATA_S3_FORCE_PATH_STYLE: '1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  };
}, 60_000);

afterAll(async () => {
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('S3 from the environment', () => {
  it('ingest into s3://, then info and head read it back', async () => {
    const uri = s3.uri('cli/shapes');
    const ing = await strata(['ingest', join(dir, 'sample', 'images'), uri, '--json', '-q'], { env });
    expect(ing.code, ing.stderr).toBe(0);
    expect(JSON.parse(ing.stdout)).toMatchObject({ ingested: 9, uri });
    const info = await strata(['info', uri, '--json'], { env });
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ uri, length: 9 });
    const head = await strata(['head', uri, '-n', '2'], { env });
    expect(head.stdout).toContain('<image 128×128');
  });

  it('a missing S3 dataset is NOT_FOUND', async () => {
    const r = await strata(['versions', s3.uri('cli/nothing-here')], { env });
    expect(r.code).toBe(1);
    expect(errorCode(r.stderr)).toBe('NOT_FOUND');
  });
});
