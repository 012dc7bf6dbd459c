import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { errorCode, strata } from './run-cli.js';

describe('strata tag, tags and branch', () => {
  let dir: string;
  let uri: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-refs-cli-'));
    uri = path.join(dir, 'ds');
    const ds = await Dataset.create(uri, { schema: { n: 'int32' } });
    for (let v = 1; v <= 3; v++) {
      await ds.append({ n: v });
      await ds.commit(`v${v}`);
    }
    await ds.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tags a version, lists tags, branches from the tag, lists and deletes', async () => {
    const t = await strata(['tag', uri, 'first', '--version', '1', '--json']);
    expect(t.stderr).toBe('');
    expect(JSON.parse(t.stdout)).toMatchObject({ name: 'first', version: 1, branch: null });
    const again = await strata(['tag', uri, 'first']);
    expect(again.code).toBe(1);
    expect(errorCode(again.stderr)).toBe('CONFLICT');
    const list = await strata(['tags', uri, '--json']);
    expect((JSON.parse(list.stdout) as { tags: { name: string }[] }).tags.map((x) => x.name)).toEqual(['first']);
    const b = await strata(['branch', uri, 'fix', '--from', 'first', '--json']);
    expect(b.stderr).toBe('');
    expect(JSON.parse(b.stdout)).toEqual({ name: 'fix', version: 0, length: 1 });
    const b2 = await strata(['branch', uri, 'old', '--from', '2']);
    expect(b2.stdout).toContain('created branch old (2 rows)');
    const branches = await strata(['branch', uri, '--json']);
    expect((JSON.parse(branches.stdout) as { branches: { name: string }[] }).branches.map((x) => x.name)).toEqual([
      'fix',
      'old',
    ]);
    const tagOnBranch = await strata(['tag', uri, 'fix-0', '--branch', 'fix', '--json']);
    expect(JSON.parse(tagOnBranch.stdout)).toMatchObject({ name: 'fix-0', version: 0, branch: 'fix' });
    expect(errorCode((await strata(['branch', uri, 'a/b'])).stderr)).toBe('INVALID_ARGUMENT');
    expect((await strata(['branch', uri, 'old', '--delete'])).stdout).toContain('deleted branch old');
    expect((await strata(['tag', uri, 'first', '--delete'])).stdout).toContain('deleted tag first');
    await using ds = await Dataset.open(uri);
    expect((await ds.branches()).map((x) => x.name)).toEqual(['fix']);
    expect((await ds.tags()).map((x) => x.name)).toEqual(['fix-0']);
  }, 120_000);
});
