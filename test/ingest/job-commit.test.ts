/**
 * Two-phase ingest (`strata ingest ... --shard i/n --job-id ID`, then `strata job commit`): shards
 * in separate processes stage their rows, which appear only with the one version the commit publishes.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { makeJpeg } from '../helpers/media.js';
import { strata } from '../cli/run-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-ingest-job-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('two-phase sharded ingest', () => {
  it('3 shards stage, nothing is visible until `strata job commit` publishes them as one version', async () => {
    const src = join(dir, 'src');
    const classes = ['ant', 'bee', 'cow'];
    for (const [c, cls] of classes.entries()) {
      await mkdir(join(src, cls), { recursive: true });
      for (let i = 0; i < 5; i++)
        await writeFile(join(src, cls, `${i}.jpg`), await makeJpeg({ width: 16, height: 12, seed: c * 100 + i + 1 }));
    }
    const dst = join(dir, 'pets.strata');
    const runs = await Promise.all(
      [0, 1, 2].map((i) => strata(['ingest', src, dst, '--json', '-q', '--shard', `${i}/3`, '--job-id', 'load-1'])),
    );
    let staged = 0;
    for (const r of runs) {
      expect(r.stderr).toBe('');
      const s = JSON.parse(r.stdout) as { staged: string; ingested: number };
      expect(s.staged).toBe('staged');
      staged += s.ingested;
    }
    expect(staged).toBe(15);
    let ds = await Dataset.open(dst);
    const before = ds.version;
    expect(ds.length).toBe(0); // columns and class names are declared; the rows are staged only
    await ds.close();

    const again = await strata(['ingest', src, dst, '--json', '-q', '--shard', '1/3', '--job-id', 'load-1']);
    expect(JSON.parse(again.stdout)).toMatchObject({ staged: 'exists', ingested: 0 });

    const commit = await strata(['job', 'commit', dst, 'load-1', '--json']);
    expect(commit.stderr).toBe('');
    expect(JSON.parse(commit.stdout)).toMatchObject({
      version: before + 1,
      shards: [0, 1, 2],
      alreadyCommitted: false,
    });
    ds = await Dataset.open(dst);
    expect(ds.version).toBe(before + 1);
    expect(ds.length).toBe(15);
    const sources = (await ds.values('_source')) as string[];
    const labels = (await ds.values('label')) as string[];
    expect(new Set(sources).size).toBe(15);
    sources.forEach((s, i) => expect(labels[i]).toBe(s.split('/')[0]));
    expect(ds.columnMeta('label').classNames).toEqual(classes);
    await ds.close();
  }, 90_000);
});
