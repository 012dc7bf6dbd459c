import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../../src/dataset/dataset.js';
import { coreOf } from '../../../src/dataset/internal.js';
import { pruneRows } from '../../../src/dataset/expr/prune.js';
import { decodeFragment, encodeFragment } from '../../../src/format/fragment.js';
import { prng } from '../../../src/random.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { CountingStorage } from '../../helpers/counting-storage.js';

const idOf = (ds: Dataset, name: string): string => coreOf(ds).columnManifest(name).id;

describe('predicate pushdown', () => {
  it('a 1%-selective predicate over 1 M rows reads at most 5% of the column chunks, same rows as unpruned', async () => {
    const name = `pushdown-${randomBytes(6).toString('hex')}`;
    const N = 1_000_000;
    const r = prng(3);
    const t = new Float64Array(N);
    // Clustered: increasing with local jitter (as event times or ingest ids are).
    for (let i = 0; i < N; i++) t[i] = i + Math.floor(r() * 2000) - 1000;
    const score = Array.from({ length: N }, () => (r() < 0.05 ? null : r()));
    const writer = await Dataset.create(`memory://${name}`, {
      schema: { t: 'float64', score: 'float32' },
      chunkSizeBytes: 64 * 1024,
    });
    for (let at = 0; at < N; at += 250_000) {
      await writer.extend({ t: Array.from(t.subarray(at, at + 250_000)), score: score.slice(at, at + 250_000) });
      await writer.commit(`rows ${at}`);
    }
    await writer.close();

    const storage = new CountingStorage(new MemoryStorage(name));
    const ds = await Dataset.open(`memory://${name}`, { storage });
    const chunks = (await coreOf(ds).reader('t').stats()).chunks;
    expect(chunks).toBeGreaterThan(100);
    const where = 't >= 500000 AND t < 510000 AND score > 0.25';
    const view = await ds.filter(where).collect();
    const read = new Set(storage.chunkReads([idOf(ds, 't')]));
    const fraction = read.size / chunks;
    expect(fraction).toBeLessThanOrEqual(0.05);
    expect(new Set(storage.chunkReads([idOf(ds, 'score')])).size / chunks).toBeLessThanOrEqual(0.05);

    const all = await Dataset.open(`memory://${name}`);
    const js = all.filter(
      (row) => (row.t as number) >= 500000 && (row.t as number) < 510000 && (row.score as number) > 0.25,
    );
    expect(view.length).toBeGreaterThan(5000);
    expect(await view.values('t')).toEqual(await js.values('t'));
    expect((await pruneRows(coreOf(ds), where)).candidateCount).toBeLessThanOrEqual(0.05 * N);
  }, 120_000);

  it('chunks without stats (older fragment files) are read, never skipped, and give the same rows', async () => {
    const name = `nostats-${randomBytes(6).toString('hex')}`;
    const writer = await Dataset.create(`memory://${name}`, { schema: { x: 'int32' }, chunkSizeBytes: 64 });
    await writer.extend({ x: Array.from({ length: 400 }, (_, i) => i) });
    await writer.commit('rows');
    const memory = new MemoryStorage(name);
    const frags = (await memory.list('fragments/')).filter((k) => k.endsWith('.frag.json'));
    for (const key of frags) {
      const f = decodeFragment(await memory.get(key), key);
      const columns = Object.fromEntries(
        Object.entries(f.columns).map(([id, segs]) => [
          id,
          segs.map((s) => ({ ...s, chunks: s.chunks.map(({ stats: _drop, ...c }) => c) })),
        ]),
      );
      await memory.put(key, encodeFragment({ ...f, columns }));
    }
    const storage = new CountingStorage(memory);
    const ds = await Dataset.open(`memory://${name}`, { storage });
    const view = ds.filter('x BETWEEN 10 AND 12');
    expect(await view.values('x')).toEqual([10, 11, 12]);
    const chunks = (await coreOf(ds).reader('x').stats()).chunks;
    expect(new Set(storage.chunkReads([idOf(ds, 'x')])).size).toBe(chunks);
    expect((await pruneRows(coreOf(ds), 'x BETWEEN 10 AND 12')).chunksKept).toBe(chunks);
  });
});
