/**
 * Ingest shards and concurrent ingests in separate processes (the CLI), into one dataset: no
 * CONFLICT, every file once, labels right, the class list the union.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { ingest } from '../../src/ingest/index.js';
import { makeJpeg } from '../helpers/media.js';
import { strata } from '../cli/run-cli.js';

let dir: string;

/** An ImageFolder of `classes`, `perClass` small JPEGs each. */
async function folder(name: string, classes: string[], perClass: number): Promise<string> {
  const root = join(dir, name);
  for (const [c, cls] of classes.entries()) {
    await mkdir(join(root, cls), { recursive: true });
    for (let i = 0; i < perClass; i++)
      await writeFile(join(root, cls, `${i}.jpg`), await makeJpeg({ width: 16, height: 12, seed: c * 100 + i + 1 }));
  }
  return root;
}

/** Every row's label equals its file's class folder; no file twice. Returns the class list. */
async function check(uri: string, files: number): Promise<string[]> {
  const ds = await Dataset.open(uri);
  expect(ds.length).toBe(files);
  const sources = (await ds.values('_source')) as string[];
  const labels = (await ds.values('label')) as string[];
  expect(new Set(sources).size).toBe(files);
  sources.forEach((s, i) => expect(labels[i]).toBe(s.split('/')[0]));
  const classes = ds.columnMeta('label').classNames as string[];
  await ds.close();
  return classes;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-ingest-shard-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sharded and concurrent ingest into one dataset', () => {
  it('2 shards of one ImageFolder, shard from the Kubernetes and AWS Batch variables: each file once, labels right', async () => {
    const src = await folder('one', ['ant', 'bee', 'cow', 'elk'], 5);
    const dst = join(dir, 'one.strata');
    const [a, b] = await Promise.all([
      strata(['ingest', src, dst, '--json', '-q'], { env: { JOB_COMPLETION_INDEX: '0', STRATA_SHARDS: '2' } }),
      strata(['ingest', src, dst, '--json', '-q'], {
        env: { AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '2' },
      }),
    ]);
    expect(a.stderr).toBe('');
    expect(b.stderr).toBe('');
    const [sa, sb] = [a, b].map((r) => JSON.parse(r.stdout) as { ingested: number });
    expect(sa.ingested + sb.ingested).toBe(20);
    expect(sa.ingested).toBeGreaterThan(0);
    expect(sb.ingested).toBeGreaterThan(0);
    expect(await check(dst, 20)).toEqual(['ant', 'bee', 'cow', 'elk']);
    // re-running a shard finds its files present
    const again = await strata(['ingest', src, dst, '--json', '-q', '--shard', '1/2']);
    expect(JSON.parse(again.stdout)).toMatchObject({ ingested: 0, alreadyPresent: sb.ingested });
  }, 60_000);

  it('2 ingests of disjoint ImageFolder classes into one dataset at once: no CONFLICT, the class list is the union', async () => {
    const left = await folder('left', ['cat', 'dog'], 8);
    const right = await folder('right', ['bird', 'fish'], 8);
    const seed = await folder('seed', ['ant'], 2);
    for (const round of [1, 2]) {
      // the dataset exists with another class: both ingests add class names to it at once
      const dst = join(dir, `union-${round}.strata`);
      await ingest(seed, dst);
      const runs = await Promise.all([
        strata(['ingest', left, dst, '--json', '-q', '--shard', '0/1']),
        strata(['ingest', right, dst, '--json', '-q']),
      ]);
      for (const r of runs) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      const classes = await check(dst, 34);
      expect(classes[0]).toBe('ant');
      expect([...classes].sort()).toEqual(['ant', 'bird', 'cat', 'dog', 'fish']);
    }
  }, 60_000);

  it('the same race in one process (both ingests read the base before either commits): no CONFLICT', async () => {
    const left = await folder('left-inproc', ['cat', 'dog'], 8);
    const right = await folder('right-inproc', ['bird', 'fish'], 8);
    const seed = await folder('seed-inproc', ['ant'], 2);
    for (const round of [1, 2, 3]) {
      const dst = join(dir, `union-inproc-${round}.strata`);
      await ingest(seed, dst);
      const [a, b] = await Promise.all([ingest(left, dst), ingest(right, dst)]);
      expect(a.ingested + b.ingested).toBe(32);
      const classes = await check(dst, 34);
      expect([...classes].sort()).toEqual(['ant', 'bird', 'cat', 'dog', 'fish']);
    }
  }, 60_000);

  it('a bad --shard is a usage error naming the problem', async () => {
    const r = await strata(['ingest', join(dir, 'one'), join(dir, 'bad.strata'), '--shard', '2/2']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('INVALID_ARGUMENT');
    const k8s = await strata(['ingest', join(dir, 'one'), join(dir, 'bad.strata')], {
      env: { JOB_COMPLETION_INDEX: '0' },
    });
    expect(k8s.code).not.toBe(0);
    expect(k8s.stderr).toContain('STRATA_SHARDS');
  }, 60_000);
});
