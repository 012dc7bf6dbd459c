import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Dataset } from '../../src/dataset/dataset.js';
import { rng } from '../helpers/random.js';

describe('ds.scanValues', () => {
  it('yields runs in position order that equal values(): typed arrays for scalar columns, nulls flagged, deleted rows dropped', async () => {
    const r = rng('scan-values');
    const maybe = <T>(v: T): T | null => (r() < 0.15 ? null : v);
    await using ds = await Dataset.create(`memory://scan-values-${randomBytes(6).toString('hex')}`, {
      schema: { w: 'int32', f: 'float64', b: 'bool', t: 'text', big: 'int64' },
      chunkSizeBytes: 1024,
    });
    for (let k = 0; k < 3; k++) {
      const n = 700;
      await ds.extend({
        w: Array.from({ length: n }, () => maybe(Math.floor(r() * 1000) - 500)),
        f: Array.from({ length: n }, () => maybe(r())),
        b: Array.from({ length: n }, () => maybe(r() < 0.5)),
        t: Array.from({ length: n }, (_, i) => maybe(i % 3 === 0 ? `ü${i}` : `a${i}`)),
        big: Array.from({ length: n }, () => maybe(BigInt(Math.floor(r() * 1e9)))),
      });
      await ds.commit(`part ${k}`);
    }
    const ids = await ds.rowIds();
    await ds.delete({ rowIds: Array.from(ids).filter((_, i) => i % 9 === 2) });
    await ds.commit('delete');
    for (const column of ['w', 'f', 'b', 't', 'big']) {
      const got: unknown[] = [];
      let next = 0;
      let typed = 0;
      for await (const run of ds.scanValues(column)) {
        expect(run.start).toBe(next);
        expect(run.values.length).toBe(run.length);
        next += run.length;
        if (!Array.isArray(run.values)) typed++;
        for (let i = 0; i < run.length; i++) {
          const v = run.values[i];
          if (Array.isArray(run.values)) got.push(v);
          else got.push(run.nulls?.[i] ? null : column === 'b' ? v === 1 : v);
        }
      }
      expect(got, column).toEqual(await ds.values(column));
      if (column === 't') expect(typed).toBe(0);
      else expect(typed, column).toBeGreaterThan(0);
    }
    expect([...(await collect(ds.scanValues('w', { start: 100, end: 140 })))]).toEqual(
      (await ds.values('w')).slice(100, 140),
    );
  });
});

async function collect(runs: AsyncIterable<{ values: ArrayLike<unknown>; nulls?: Uint8Array; length: number }>) {
  const out: unknown[] = [];
  for await (const run of runs) for (let i = 0; i < run.length; i++) out.push(run.nulls?.[i] ? null : run.values[i]);
  return out;
}
