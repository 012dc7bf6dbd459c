/**
 * Runs every example and the demo as a child process (as `npx tsx examples/<name>.ts` would), so
 * they cannot rot. The S3 example runs against the loopback S3 test server.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildResult, childEnv, runChild } from '../helpers/child-process.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((f) => /^\d\d-.+\.ts$/.test(f))
  .sort();

function runExample(file: string, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return runChild(process.execPath, ['--import', TSX, join(ROOT, 'examples', file)], {
    cwd: ROOT,
    env: childEnv(env),
  });
}

let dir: string;
let s3: S3TestServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-examples-'));
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('examples', () => {
  it('there is one example per user task', () => {
    expect(EXAMPLES).toEqual([
      '01-open-dataset.ts',
      '02-ingest-folder.ts',
      '03-embed-images.ts',
      '04-embed-videos.ts',
      '05-search-similar.ts',
      '06-window-features.ts',
      '07-serve-features.ts',
      '08-s3.ts',
      '09-embed-text.ts',
      '10-bring-your-own-model.ts',
    ]);
  });

  it.each(EXAMPLES.filter((f) => f !== '08-s3.ts'))(
    '%s runs and exits 0',
    async (file) => {
      const r = await runExample(file, { STRATA_EXAMPLES_DIR: dir });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/: ok in [\d.]+ s/);
    },
    180_000,
  );

  it('08-s3.ts runs against an S3-compatible endpoint given by the environment', async () => {
    const r = await runExample('08-s3.ts', {
      STRATA_EXAMPLES_DIR: dir,
      STRATA_S3_ENDPOINT: s3.endpoint,
      STRATA_S3_BUCKET: s3.bucket,
      STRATA_S3_FORCE_PATH_STYLE: '1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).not.toContain('SKIPPED');
    expect(r.stdout).toContain(`s3://${s3.bucket}/`);
  }, 180_000);

  it('08-s3.ts without an S3 bucket says it was skipped, why and how to run it, and never "ok"', async () => {
    const env: NodeJS.ProcessEnv = { STRATA_EXAMPLES_DIR: dir };
    const r = await runExample('08-s3.ts', { ...env, STRATA_S3_BUCKET: '' });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/^08-s3: SKIPPED/m);
    expect(r.stderr).toContain('STRATA_S3_BUCKET');
    expect(r.stderr).toContain('s3rver');
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/: ok in/);
  }, 180_000);

  it('an example that fails exits non-zero with one FAILED line', async () => {
    // 08-s3 with an S3 setting the storage layer refuses before any request.
    const r = await runExample('08-s3.ts', {
      STRATA_EXAMPLES_DIR: dir,
      STRATA_S3_ENDPOINT: s3.endpoint,
      STRATA_S3_BUCKET: s3.bucket,
      STRATA_S3_CHECKSUM: 'SOMETIMES',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/08-s3: FAILED: [A-Z_]+: /);
  }, 180_000);
});

describe('npm run demo', () => {
  it('runs every step and prints a served feature vector with its embedding', async () => {
    const r = await runExample('demo.ts', { STRATA_EXAMPLES_DIR: dir });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (let i = 1; i <= 8; i++) expect(r.stderr).toContain(`[${i}/8] done in`);
    expect(r.stdout).toMatch(/embedding\s+PRESENT\s+\[/);
    expect(r.stdout).toContain('feature server stopped');
  }, 180_000);
});
