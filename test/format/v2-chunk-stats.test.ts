import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { decodeChunk, sampleAt } from '../../src/format/chunk.js';
import {
  STATS_STRING_PREFIX,
  compareStrings,
  computeChunkStats,
  readChunkStats,
} from '../../src/format/chunk-stats.js';
import { type FragmentFile, decodeFragment, encodeFragment } from '../../src/format/fragment.js';
import { readLatestAnyManifest } from '../../src/format/latest.js';
import type { ChunkRef } from '../../src/format/manifest.js';
import type { ManifestV2 } from '../../src/format/manifest-v2.js';
import { VersionReader } from '../../src/format/version-reader.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { encodeManifest, versionKey } from '../../src/format/manifest.js';
import { copyAsV1 } from './fixtures/v1-copy.js';
import { typedView } from '../../src/format/dtype.js';
import { prng } from '../../src/random.js';

type Value = number | string | boolean | null;

/** Recomputes what a chunk's stats must say from its decoded values (NaN counted apart). */
function expected(values: readonly Value[]): { nulls: number; min: Value; max: Value; hasNaN: boolean } {
  let nulls = 0;
  let hasNaN = false;
  const present: (number | string)[] = [];
  for (const v of values) {
    if (v === null) nulls++;
    else if (typeof v === 'number' && Number.isNaN(v)) hasNaN = true;
    else present.push(typeof v === 'boolean' ? Number(v) : v);
  }
  const cmp = (a: number | string, b: number | string): number =>
    typeof a === 'string' ? compareStrings(a, b as string) : a - (b as number);
  present.sort(cmp);
  return { nulls, min: present[0] ?? null, max: present.at(-1) ?? null, hasNaN };
}

async function fragmentsOf(storage: MemoryStorage): Promise<{ reader: VersionReader; files: FragmentFile[] }> {
  const m = (await readLatestAnyManifest(storage)) as ManifestV2;
  const reader = new VersionReader(storage, m);
  const files: FragmentFile[] = [];
  for await (const slot of reader.slots(0, reader.length)) files.push(await reader.fragment(slot.ref));
  return { reader, files };
}

const text = (rand: () => number): string => {
  const n = Math.floor(rand() * 5) + (rand() < 0.05 ? STATS_STRING_PREFIX : 0);
  let s = '';
  for (let i = 0; i < n; i++) s += 'abcé😀z'[Math.floor(rand() * 6)] === '😀' ? '😀' : 'abcéz'[Math.floor(rand() * 5)];
  return s;
};

/** Checks every chunk's stats of the latest version against its recomputed values; returns the chunks checked. */
async function checkAllStats(storage: MemoryStorage): Promise<number> {
  const { reader, files } = await fragmentsOf(storage);
  let checked = 0;
  for (const column of reader.schema) {
    for (const f of files) {
      for (const seg of f.columns[column.id] ?? []) {
        for (const ref of seg.chunks) {
          const chunk = decodeChunk(await storage.get(ref.key), ref.key);
          const values: Value[] = [];
          for (let k = 0; k < chunk.header.count; k++) {
            const s = sampleAt(chunk, k);
            if (s === null) values.push(null);
            else if (column.dtype === 'string') values.push(new TextDecoder().decode(s.bytes));
            else values.push(Number(typedView(column.dtype, s.bytes)[0]));
          }
          const want = expected(values);
          const got = readChunkStats(ref.stats)!;
          expect(got).toBeDefined();
          expect(got.nulls).toBe(want.nulls);
          expect(got.hasNaN).toBe(want.hasNaN);
          if (typeof want.min === 'string') {
            // A long string is bounded by a prefix: min ≤ the true min, max is the true max's prefix.
            expect(compareStrings(got.min as string, want.min)).toBeLessThanOrEqual(0);
            expect(want.min.startsWith(got.min as string)).toBe(true);
            expect(want.max as string).toSatisfy(
              (m: string) => m === got.max || (got.maxIsPrefix && m.startsWith(got.max as string)),
            );
          } else {
            expect(got.min).toBe(want.min);
            expect(got.max).toBe(want.max);
          }
          checked++;
        }
      }
    }
  }
  return checked;
}

describe('per-chunk statistics', () => {
  it('equal the values recomputed from every chunk (random data with nulls, NaN, empty strings)', async () => {
    const name = `stats-${randomBytes(6).toString('hex')}`;
    const ds = await Dataset.create(`memory://${name}`, {
      schema: { f: 'float32', i: 'int32', t: 'text', b: 'bool', label: { htype: 'class_label' } },
      chunkSizeBytes: 64,
    });
    const rand = prng(7);
    for (let batch = 0; batch < 3; batch++) {
      const n = 40 + Math.floor(rand() * 40);
      const pick = <T>(f: () => T): (T | null)[] => Array.from({ length: n }, () => (rand() < 0.15 ? null : f()));
      await ds.extend({
        f: pick(() => (rand() < 0.05 ? NaN : rand() < 0.03 ? -Infinity : Math.fround(rand() * 100 - 50))),
        i: pick(() => Math.floor(rand() * 1000) - 500),
        t: pick(() => text(rand)),
        b: pick(() => rand() < 0.5),
        label: pick(() => ['cat', 'dog', 'eel'][Math.floor(rand() * 3)]),
      });
      await ds.commit(`batch ${batch}`);
    }
    // An all-null run makes chunks whose bounds are null.
    await ds.extend({ f: Array(20).fill(null), i: Array(20).fill(null) });
    await ds.commit('nulls');
    const storage = new MemoryStorage(name);
    expect(await checkAllStats(storage)).toBeGreaterThan(30);
    // Updates write new copies, optimize rewrites: their chunks carry stats too.
    await ds.update((row) => row.i !== null && (row.i as number) % 3 === 0, { t: 'updated', f: 1.5 });
    await ds.commit('update');
    await ds.optimize({ maxDeletedFraction: 0, targetChunkBytes: 64 });
    expect(await checkAllStats(storage)).toBeGreaterThan(30);
    await ds.close();
  });

  it('a v1 migration computes the stats of scalar chunks that have none', async () => {
    const name = `stats-v1-${randomBytes(6).toString('hex')}`;
    const ds = await Dataset.create(`memory://${name}`, { schema: { x: 'float64', t: 'text' }, chunkSizeBytes: 64 });
    await ds.extend({ x: [3, null, -2, NaN, 8, 1, 0.5], t: ['b', 'a', null, '', 'zz', 'c', 'b'] });
    await ds.commit('rows');
    await ds.close();
    const v1Name = `${name}-v1`;
    const v1 = new MemoryStorage(v1Name);
    const [m] = await copyAsV1(new MemoryStorage(name), v1, [1]);
    const stripped = {
      ...m,
      columns: m.columns.map((c) => ({ ...c, chunks: c.chunks.map(({ stats: _s, ...k }) => k) })),
    };
    await v1.put(versionKey(m.version), encodeManifest(stripped));
    expect(await Dataset.migrate(`memory://${v1Name}`)).toMatchObject({ migrated: true });
    expect(await checkAllStats(v1)).toBe(2);
  });

  it('are computed for scalar dtypes only, and stay absent for tensors and 64-bit ints beyond 2^53', () => {
    const f64 = (v: number) => ({ bytes: new Uint8Array(new Float64Array([v]).buffer), shape: [] });
    expect(computeChunkStats('float64', [f64(2), null, f64(-1)])).toEqual([1, -1, 2]);
    expect(computeChunkStats('float64', [f64(NaN), f64(Infinity), f64(3)])).toEqual([0, 3, null, 5]);
    expect(readChunkStats(computeChunkStats('float64', [f64(Infinity), f64(3)]))).toMatchObject({
      min: 3,
      max: Infinity,
    });
    expect(computeChunkStats('float64', [])).toEqual([0, null, null]);
    const pair = { bytes: new Uint8Array(new Float32Array([1, 2]).buffer), shape: [2] };
    expect(computeChunkStats('float32', [pair])).toBeUndefined();
    const big = { bytes: new Uint8Array(new BigInt64Array([2n ** 60n]).buffer), shape: [] };
    expect(computeChunkStats('int64', [big])).toBeUndefined();
    expect(computeChunkStats('json', [])).toBeUndefined();
    const long = 'b'.repeat(STATS_STRING_PREFIX - 1) + '😀tail';
    const enc = (s: string) => ({ bytes: new TextEncoder().encode(s), shape: [] });
    const [, min, max, flags] = computeChunkStats('string', [enc(long), enc('a')])!;
    expect(min).toBe('a');
    expect(max).toBe('b'.repeat(STATS_STRING_PREFIX - 1)); // never splits the surrogate pair
    expect(flags).toBe(2);
  });

  it('damaged stats (valid checksum) are CORRUPT naming the fragment, and a flipped byte too', async () => {
    const name = `stats-bad-${randomBytes(6).toString('hex')}`;
    const ds = await Dataset.create(`memory://${name}`, { schema: { x: 'float64' } });
    await ds.extend({ x: [1, 2, 3] });
    await ds.commit('three');
    const storage = new MemoryStorage(name);
    const { reader, files } = await fragmentsOf(storage);
    const first = await reader.slots(0, 1).next();
    if (first.done) throw new Error('no fragment');
    const key: string = first.value.ref.key;
    const id = reader.schema[0].id;
    const original = await storage.get(key);
    const withStats = (stats: unknown): Uint8Array => {
      const seg = files[0].columns[id][0];
      const chunks = [{ ...seg.chunks[0], stats } as unknown as ChunkRef];
      return encodeFragment({ ...files[0], columns: { [id]: [{ ...seg, chunks }] } });
    };
    for (const bad of [
      [5, 1, 2],
      [0, 3, 1],
      [0, 'a', 2],
      [0, 1],
      [0, null, 2],
      [0, null, null],
      [-1, 1, 2],
      [0, 1, 2, 99],
    ]) {
      expect(() => decodeFragment(withStats(bad), key)).toThrow(
        expect.objectContaining({ code: 'CORRUPT', details: expect.objectContaining({ key }) as unknown }),
      );
    }
    expect(decodeFragment(withStats([0, 1, 3]), key).columns[id][0].chunks[0].stats).toEqual([0, 1, 3]);
    const flipped = original.slice();
    const at = new TextDecoder().decode(flipped).indexOf('"stats":[0,1,3]') + 11;
    expect(at).toBeGreaterThan(11);
    flipped[at] = '2'.charCodeAt(0);
    expect(() => decodeFragment(flipped, key)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    // Rows still read as before through the dataset (stats never change values).
    expect(await (await Dataset.open(`memory://${name}`)).values('x')).toEqual([1, 2, 3]);
  });
});
