import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { type StrataError, isStrataError } from '../../src/errors.js';
import { readFragment } from '../../src/format/fragment.js';
import { readAnyManifest } from '../../src/format/latest.js';
import { isV2 } from '../../src/format/manifest-v2.js';
import { readPage } from '../../src/format/pages.js';
import { type Ref, MAIN, branchRef } from '../../src/format/refs.js';
import type { Storage } from '../../src/storage/storage.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';

const schema = {
  n: 'int32',
  text: 'text',
  emb: { htype: 'embedding', dim: 2 },
  emb2: { htype: 'embedding', dim: 2 },
} as const;
const DATA_PREFIXES = ['chunks/', 'fragments/', 'pages/'];

function row(n: number, tag = 'r') {
  return { n, text: `${tag}-${n}-${'payload'.repeat(20 + (n % 7))}` };
}
const vec = (n: number) => [n, -n];
const vec2 = (n: number) => [n * 2, 0.5];

/** Objects a version references, walked from its manifest (pages → fragment refs → files → chunks). */
async function referenced(storage: Storage, ref: Ref, version: number): Promise<Set<string>> {
  const m = await readAnyManifest(storage, version, undefined, ref);
  if (!isV2(m)) throw new Error('expected v2');
  const out = new Set<string>();
  const refs = [...m.fragments.tail];
  for (const p of m.fragments.pages) {
    out.add(p.key);
    refs.push(...(await readPage(storage, p.key)).fragments);
  }
  for (const r of refs) {
    out.add(r.key);
    for (const segs of Object.values((await readFragment(storage, r.key)).columns))
      for (const s of segs) for (const c of s.chunks) out.add(c.key);
  }
  return out;
}

async function dataObjects(storage: Storage): Promise<string[]> {
  return (await Promise.all(DATA_PREFIXES.map((p) => storage.list(p)))).flat().sort();
}

async function sizes(storage: Storage, prefixes: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const p of prefixes) for (const k of await storage.list(p)) out.set(k, (await storage.size(k)) ?? 0);
  return out;
}

async function vectors(ds: Dataset, column: string): Promise<(number[] | null)[]> {
  return (await ds.values(column)).map((v) => (v === null ? null : Array.from(v as Float32Array)));
}

async function texts(ds: Dataset): Promise<unknown[]> {
  return ds.values('text');
}

const pause = () => new Promise((r) => setTimeout(r, 5));

describe.each(BACKENDS)('tags, branches and vacuum on %s', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(name);
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('lance#8705: a tag on an early version keeps it whole while vacuum deletes every byte of garbage written after it', async () => {
    const uri = backend.uri();
    const storage = await backend.open(uri);
    const ds = await Dataset.create(uri, { schema, ...backend.options, chunkSizeBytes: 2048 });
    ds.setColumnMeta('emb', { lineage: { model: 'test' } });
    await ds.append([0, 1, 2, 3].map((n) => ({ ...row(n), emb2: vec2(n) })));
    await ds.commit('v1');
    await ds.tag('early');
    const early = await texts(ds);
    // heavy rewrites after the tag: every round appends, then fills the derived column of those rows
    // (replacing their fragment file), while a scratch branch writes rows that are later dropped
    const scratch = await ds.branch('scratch');
    let n = 4;
    for (let round = 0; round < 12; round++) {
      await ds.append([n, n + 1, n + 2].map((k) => ({ ...row(k), emb2: vec2(k) })));
      await ds.commit(`append ${round}`);
      const missing = ds.length - (await ds.storedLength('emb'));
      await ds.appendToColumn(
        'emb',
        Array.from({ length: missing }, (_, k) => vec(ds.length - missing + k)),
      );
      await ds.commit(`fill ${round}`);
      await scratch.append([0, 1, 2, 3, 4].map((k) => ({ ...row(1000 + round * 5 + k, 's'), emb2: vec2(k) })));
      await scratch.commit(`scratch ${round}`);
      n += 3;
    }
    await scratch.close();
    await ds.deleteBranch('scratch');
    const latest = ds.version;
    const before = await sizes(storage, ['versions/', 'branches/', ...DATA_PREFIXES]);
    const keep = new Set([...(await referenced(storage, MAIN, 1)), ...(await referenced(storage, MAIN, latest))]);
    const garbage = [...before.keys()].filter((k) => !k.startsWith('versions/') && !keep.has(k));
    expect(garbage.length).toBeGreaterThan(12 * 3); // replaced fragment files and scratch chunks
    await pause();
    const result = await ds.vacuum({ retentionMs: 0 });
    // everything unreferenced is gone, everything referenced stays
    expect(await dataObjects(storage)).toEqual([...keep].sort());
    expect(result.versionsDeleted).toEqual(
      Array.from({ length: latest + 1 }, (_, v) => v).filter((v) => v !== 1 && v !== latest),
    );
    expect(result.damagedVersions).toEqual([]);
    const after = await sizes(storage, ['versions/', 'branches/', ...DATA_PREFIXES]);
    let freed = 0;
    for (const [k, size] of before) if (!after.has(k)) freed += size;
    expect(result.bytesFreed).toBe(freed);
    expect(freed).toBeGreaterThan(12 * 5 * 140); // at least the scratch rows' text bytes
    // the tagged version and the latest still read every byte
    await using tagged = await Dataset.open(uri, { ...backend.options, tag: 'early' });
    expect(await texts(tagged)).toEqual(early);
    expect(await vectors(tagged, 'emb2')).toEqual([0, 1, 2, 3].map(vec2));
    await using now = await Dataset.open(uri, backend.options);
    expect(await now.values('n')).toEqual(Array.from({ length: n }, (_, k) => k));
    expect(await texts(now)).toEqual(Array.from({ length: n }, (_, k) => row(k).text));
    expect(await vectors(now, 'emb')).toEqual(Array.from({ length: n }, (_, k) => vec(k)));
    // deleting the tag makes what only it kept collectable
    await ds.deleteTag('early');
    await pause();
    await ds.vacuum({ retentionMs: 0 });
    expect(await dataObjects(storage)).toEqual([...(await referenced(storage, MAIN, latest))].sort());
    expect((await now.versions()).map((v) => v.version)).toEqual([latest]);
    await ds.close();
    await storage.close();
  });

  it('vacuum keeps every version a tag or branch references (each reads every byte) and deletes the rest', async () => {
    const uri = backend.uri();
    const storage = await backend.open(uri);
    const ds = await Dataset.create(uri, { schema, ...backend.options, chunkSizeBytes: 2048 });
    for (let v = 1; v <= 4; v++) {
      await ds.append([v * 10, v * 10 + 1].map((k) => row(k)));
      await ds.commit(`main ${v}`);
    }
    const feature = await ds.branch('feature', { from: 2 });
    for (let v = 1; v <= 3; v++) {
      await feature.append([500 + v].map((k) => row(k, 'f')));
      await feature.commit(`feature ${v}`);
    }
    await feature.tag('feature-1', 1);
    const expected = new Map<string, unknown[]>();
    const check: [Ref, number][] = [
      [MAIN, 2], // the fork source
      [MAIN, 4], // the latest
      [branchRef('feature'), 0], // the fork copy
      [branchRef('feature'), 1], // tagged
      [branchRef('feature'), 3], // the head
    ];
    for (const [ref, v] of check) {
      await using d = await Dataset.open(uri, { ...backend.options, branch: ref.branch ?? undefined, version: v });
      expected.set(`${ref.branch}@${v}`, await texts(d));
    }
    const keep = new Set<string>();
    for (const [ref, v] of check) for (const k of await referenced(storage, ref, v)) keep.add(k);
    await pause();
    const result = await ds.vacuum({ retentionMs: 0 });
    expect(result.versionsDeleted).toEqual([0, 1, 3]);
    expect(result.branchVersionsDeleted).toEqual([{ branch: 'feature', version: 2 }]);
    expect(await dataObjects(storage)).toEqual([...keep].sort());
    for (const [ref, v] of check) {
      await using d = await Dataset.open(uri, { ...backend.options, branch: ref.branch ?? undefined, version: v });
      expect(await texts(d), `${ref.branch}@${v}`).toEqual(expected.get(`${ref.branch}@${v}`));
    }
    // deleting the branch (and its tag) makes its objects collectable
    await ds.deleteTag('feature-1');
    await ds.deleteBranch('feature');
    await pause();
    await ds.vacuum({ retentionMs: 0 });
    expect(await dataObjects(storage)).toEqual([...(await referenced(storage, MAIN, 4))].sort());
    expect(await storage.list('branches/')).toEqual([]);
    await Promise.all([feature.close(), ds.close()]);
    await storage.close();
  });

  it('a damaged tag stops vacuum with CORRUPT naming it, before anything is deleted', async () => {
    const uri = backend.uri();
    const storage = await backend.open(uri);
    const ds = await Dataset.create(uri, { schema, ...backend.options });
    for (let v = 1; v <= 3; v++) {
      await ds.append([row(v)]);
      await ds.commit(`v${v}`);
    }
    await ds.tag('keep', 1);
    const bytes = await storage.get('tags/keep.json');
    bytes[bytes.length - 30] ^= 1;
    await storage.put('tags/keep.json', bytes);
    const before = await storage.list('');
    await pause();
    let error: unknown;
    try {
      await ds.vacuum({ retentionMs: 0 });
    } catch (err) {
      error = err;
    }
    expect(isStrataError(error, 'CORRUPT')).toBe(true);
    expect((error as StrataError).details.key).toBe('tags/keep.json');
    expect(await storage.list('')).toEqual(before);
    await ds.close();
    await storage.close();
  });

  it('mergeBranch replays fills of shared and branch-new fragments onto a main that filled another column and appended', async () => {
    const uri = backend.uri();
    const storage = await backend.open(uri);
    const ds = await Dataset.create(uri, { schema, ...backend.options });
    ds.setColumnMeta('emb', { lineage: { model: 'a' } });
    ds.setColumnMeta('emb2', { lineage: { model: 'b' } });
    await ds.append([0, 1, 2, 3].map((k) => row(k)));
    await ds.commit('rows 0-3');
    const br = await ds.branch('embed');
    await br.appendToColumn('emb', [0, 1, 2, 3].map(vec)); // fills the shared fragment
    await br.commit('emb 0-3');
    await br.append([10, 11].map((k) => row(k, 'b')));
    await br.commit('branch rows');
    await br.appendToColumn('emb', [10, 11].map(vec)); // fills a fragment only the branch has
    await br.commit('emb 10-11');
    await ds.appendToColumn('emb2', [0, 1, 2, 3].map(vec2)); // main replaces the shared fragment's file
    await ds.commit('emb2 0-3');
    await ds.append([4, 5].map((k) => row(k)));
    await ds.commit('rows 4-5');
    expect(await ds.mergeBranch('embed')).toBe(4);
    await using m = await Dataset.open(uri, backend.options);
    expect(await m.values('n')).toEqual([0, 1, 2, 3, 4, 5, 10, 11]);
    expect(await vectors(m, 'emb')).toEqual([vec(0), vec(1), vec(2), vec(3), null, null, vec(10), vec(11)]);
    expect(await vectors(m, 'emb2')).toEqual([vec2(0), vec2(1), vec2(2), vec2(3), null, null, null, null]);
    await br.close();
    await ds.close();
    await storage.close();
  });
});
