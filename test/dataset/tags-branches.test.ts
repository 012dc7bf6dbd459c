import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { isStrataError } from '../../src/errors.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';

const schema = { n: 'int32', text: 'text' } as const;

function rows(from: number, count: number, tag = 'r') {
  return Array.from({ length: count }, (_, k) => ({
    n: from + k,
    text: `${tag}-${from + k}-${'x'.repeat((from + k) % 17)}`,
  }));
}

async function all(ds: Dataset): Promise<{ n: unknown; text: unknown }[]> {
  return (await ds.toArray()).map((r) => ({ n: r.n, text: r.text }));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isStrataError(err)) return err.code;
    throw err;
  }
  return 'resolved';
}

describe.each(BACKENDS)('tags and branches on %s', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend?.stop();
  });

  async function create(): Promise<{ uri: string; ds: Dataset }> {
    const uri = backend.uri();
    const ds = await Dataset.create(uri, { schema, ...backend.options });
    return { uri, ds };
  }

  it('tags a version, lists and opens it by tag, deletes it; bad names and duplicates are typed errors', async () => {
    const { uri, ds } = await create();
    await ds.append(rows(0, 5));
    await ds.commit('v1');
    const tag = await ds.tag('release-1');
    expect(tag).toMatchObject({ name: 'release-1', version: 1, branch: null });
    await ds.append(rows(5, 5));
    expect(await ds.commit('v2')).toBe(2);
    await ds.tag('empty', 0);
    expect((await ds.tags()).map((t) => [t.name, t.version])).toEqual([
      ['empty', 0],
      ['release-1', 1],
    ]);
    await using old = await Dataset.open(uri, { ...backend.options, tag: 'release-1' });
    expect(old.version).toBe(1);
    expect(await all(old)).toEqual(rows(0, 5));
    expect(await codeOf(ds.tag('release-1', 2))).toBe('CONFLICT');
    for (const bad of ['', 'a/b', '..', '../x', 'x.lock', '.hidden', 'a b'])
      expect(await codeOf(ds.tag(bad)), bad).toBe('INVALID_ARGUMENT');
    expect(await codeOf(ds.tag('future', 99))).toBe('NOT_FOUND');
    expect(await codeOf(Dataset.open(uri, { ...backend.options, tag: 'nope' }))).toBe('NOT_FOUND');
    expect(await codeOf(Dataset.open(uri, { ...backend.options, tag: 'empty', version: 1 }))).toBe('INVALID_ARGUMENT');
    await ds.deleteTag('release-1');
    expect(await codeOf(ds.deleteTag('release-1'))).toBe('NOT_FOUND');
    expect((await ds.tags()).map((t) => t.name)).toEqual(['empty']);
    await ds.close();
  });

  it('commits on a branch never move main; the branch opens at its head, by tag too, and can be deleted', async () => {
    const { uri, ds } = await create();
    await ds.append(rows(0, 4));
    await ds.commit('main 1');
    const br = await ds.branch('exp');
    expect(br.branchName).toBe('exp');
    expect(br.version).toBe(0);
    await br.append(rows(100, 3, 'b'));
    expect(await br.commit('branch 1')).toBe(1);
    await br.append(rows(103, 2, 'b'));
    expect(await br.commit('branch 2')).toBe(2);
    await br.tag('exp-head');
    await using main = await Dataset.open(uri, backend.options);
    expect(main.version).toBe(1);
    expect(await all(main)).toEqual(rows(0, 4));
    await using opened = await Dataset.open(uri, { ...backend.options, branch: 'exp' });
    expect(opened.version).toBe(2);
    expect(await all(opened)).toEqual([...rows(0, 4), ...rows(100, 5, 'b')]);
    expect((await opened.versions()).map((v) => v.version)).toEqual([0, 1, 2]);
    await using byTag = await Dataset.open(uri, { ...backend.options, tag: 'exp-head' });
    expect(byTag.branchName).toBe('exp');
    expect(await all(byTag)).toEqual(await all(opened));
    await using old = await Dataset.open(uri, { ...backend.options, branch: 'exp', version: 1 });
    expect(await all(old)).toEqual([...rows(0, 4), ...rows(100, 3, 'b')]);
    // a branch from a tag, and from a version number of main
    const fromTag = await ds.branch('from-tag', { from: 'exp-head' });
    expect(await all(fromTag)).toEqual(await all(opened));
    const fromZero = await ds.branch('from-zero', { from: 0 });
    expect(fromZero.length).toBe(0);
    expect((await ds.branches()).map((b) => [b.name, b.origin, b.version])).toEqual([
      ['exp', { branch: null, version: 1 }, 2],
      ['from-tag', { branch: 'exp', version: 2 }, 0],
      ['from-zero', { branch: null, version: 0 }, 0],
    ]);
    expect(await codeOf(ds.branch('exp'))).toBe('CONFLICT');
    expect(await codeOf(ds.branch('main'))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(ds.branch('a/b'))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(ds.deleteBranch('exp'))).toBe('CONFLICT'); // tagged
    await ds.deleteTag('exp-head');
    await ds.deleteBranch('exp');
    expect(await codeOf(Dataset.open(uri, { ...backend.options, branch: 'exp' }))).toBe('NOT_FOUND');
    expect((await ds.branches()).map((b) => b.name)).toEqual(['from-tag', 'from-zero']);
    // the name can be used again
    const again = await ds.branch('exp');
    expect(await all(again)).toEqual(rows(0, 4));
    await Promise.all([br.close(), fromTag.close(), fromZero.close(), again.close(), ds.close()]);
  });

  it('mergeBranch fast-forwards when main has not moved', async () => {
    const { uri, ds } = await create();
    await ds.append(rows(0, 3));
    await ds.commit('main 1');
    const br = await ds.branch('ff');
    await br.append(rows(3, 2));
    await br.commit('b1');
    br.setMeta({ source: 'branch' });
    await br.append(rows(5, 2));
    await br.commit('b2');
    expect(await ds.mergeBranch('ff')).toBe(2);
    expect(ds.version).toBe(2);
    await using main = await Dataset.open(uri, backend.options);
    expect(main.version).toBe(2);
    expect(main.meta).toEqual({ source: 'branch' });
    expect(await all(main)).toEqual(rows(0, 7));
    // main continues normally after the merge
    await main.append(rows(7, 1));
    expect(await main.commit('after')).toBe(3);
    expect(await all(await main.refresh())).toEqual(rows(0, 8));
    // a merged branch is not applied twice: nothing new is a no-op, new commits are CONFLICT
    expect(await main.mergeBranch('ff')).toBe(3);
    await br.append(rows(100, 1));
    await br.commit('b3');
    expect(await codeOf(main.mergeBranch('ff'))).toBe('CONFLICT');
    expect(await all(await main.refresh())).toEqual(rows(0, 8));
    await Promise.all([br.close(), ds.close()]);
  });

  it('mergeBranch replays the branch appends and schema changes onto a main that also appended (every row once)', async () => {
    const { uri, ds } = await create();
    await ds.append(rows(0, 3));
    await ds.commit('main 1');
    const br = await ds.branch('work');
    await br.append(rows(100, 4, 'b'));
    await br.commit('b1');
    br.addColumn('score', 'float32');
    await br.append(rows(104, 2, 'b').map((r) => ({ ...r, score: r.n / 2 })));
    br.setMeta({ b: 1 });
    await br.commit('b2');
    await ds.append(rows(3, 2));
    await ds.commit('main 2');
    ds.setMeta({ m: 1 });
    await ds.append(rows(5, 1));
    await ds.commit('main 3');
    expect(await ds.mergeBranch('work')).toBe(4);
    await using main = await Dataset.open(uri, backend.options);
    expect(main.version).toBe(4);
    expect(main.meta).toEqual({ m: 1, b: 1 });
    expect(main.columns).toEqual(['n', 'text', 'score']);
    const got = await main.toArray();
    expect(got.map((r) => ({ n: r.n, text: r.text }))).toEqual([...rows(0, 6), ...rows(100, 6, 'b')]);
    expect(got.map((r) => r.score)).toEqual([...new Array<null>(10).fill(null), 52, 52.5]);
    // the branch is untouched, and merging it again changes nothing
    await using b = await Dataset.open(uri, { ...backend.options, branch: 'work' });
    expect(b.length).toBe(9);
    expect(await ds.mergeBranch('work')).toBe(4);
    expect((await ds.refresh()).version).toBe(4);
    await Promise.all([br.close(), ds.close()]);
  });

  it('mergeBranch reports CONFLICT naming the metadata key both sides set differently, and publishes nothing', async () => {
    const { uri, ds } = await create();
    await ds.append(rows(0, 2));
    await ds.commit('main 1');
    const br = await ds.branch('clash');
    br.setMeta({ owner: 'branch' });
    await br.append(rows(2, 1));
    await br.commit('b1');
    ds.setMeta({ owner: 'main' });
    await ds.commit('main 2');
    let error: unknown;
    try {
      await ds.mergeBranch('clash');
    } catch (err) {
      error = err;
    }
    expect(isStrataError(error, 'CONFLICT')).toBe(true);
    expect((error as { details: { collision: string } }).details.collision).toBe('dataset metadata key owner');
    await using main = await Dataset.open(uri, backend.options);
    expect(main.version).toBe(2);
    expect(await all(main)).toEqual(rows(0, 2));
    await Promise.all([br.close(), ds.close()]);
  });
});
