/** `strata embed --shard/--shards/--providers`, as a user runs it (child processes). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { sampleImages, tinyModel, type TinyModel } from '../embed/fixtures/data.js';
import { errorCode, strata } from './run-cli.js';

let dir: string;
let model: TinyModel;
let uri: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-shard-'));
  model = await tinyModel(dir, 'tiny', { seed: 5, inputSize: 32, dim: 8 });
  const images = await sampleImages(16, 2);
  uri = join(dir, 'ds.strata');
  const ds = await Dataset.create(uri, { schema: { image: 'image' } });
  for (let at = 0; at < 16; at += 4) {
    await ds.append(images.slice(at, at + 4).map((image) => ({ image })));
    await ds.commit();
  }
  await ds.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('strata embed as shards', () => {
  it('--shard 0/2 --providers cpu, then shard 1 from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, --shards)', async () => {
    const base = ['embed', uri, '--column', 'image', '--model', model.path, '--json', '-q'];
    const a = await strata([...base, '--shard', '0/2', '--providers', 'cpu']);
    expect(a.stderr).toBe('');
    expect(JSON.parse(a.stdout)).toMatchObject({
      shard: { index: 0, count: 2 },
      processed: 8,
      executionProviders: ['cpu'],
    });
    const b = await strata([...base, '--shards', '2'], { env: { JOB_COMPLETION_INDEX: '1' } });
    expect(b.stderr).toBe('');
    expect(JSON.parse(b.stdout)).toMatchObject({ shard: { index: 1, count: 2 }, processed: 8 });
    const ds = await Dataset.open(uri);
    expect((await ds.values('embedding')).every((v) => v !== null)).toBe(true);
    await ds.close();
  }, 60_000);

  it('--providers cuda on a machine without CUDA: UNAVAILABLE; a bad --shard: INVALID_ARGUMENT', async () => {
    const base = ['embed', uri, '--column', 'image', '--model', model.path, '-q', '--output', 'other'];
    const cuda = await strata([...base, '--providers', 'cuda']);
    expect(cuda.code).toBe(1);
    expect(errorCode(cuda.stderr)).toBe('UNAVAILABLE');
    const bad = await strata([...base, '--shard', '2/2']);
    expect(bad.code).toBe(1);
    expect(errorCode(bad.stderr)).toBe('INVALID_ARGUMENT');
    const batch = await strata(base, { env: { AWS_BATCH_JOB_ARRAY_INDEX: '0' } });
    expect(errorCode(batch.stderr)).toBe('INVALID_ARGUMENT');
    expect(batch.stderr).toContain('AWS_BATCH_JOB_ARRAY_SIZE');
  }, 60_000);
});
