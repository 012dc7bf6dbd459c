import { describe, expect, it } from 'vitest';
import { computeChunkStats, readChunkStats } from '../../../src/format/chunk-stats.js';
import type { ColumnSchema } from '../../../src/format/manifest-v2.js';
import { pushableConditions } from '../../../src/dataset/expr/conditions.js';
import { TRUE, compileFilter } from '../../../src/dataset/expr/evaluate.js';
import { parseExpression } from '../../../src/dataset/expr/parse.js';
import { prng } from '../../../src/random.js';

const column = (dtype: 'float64' | 'string'): ColumnSchema => ({
  name: 'x',
  id: 'c00000001',
  htype: dtype === 'string' ? 'text' : 'generic',
  dtype,
  sampleCompression: 'none',
  chunkCompression: 'none',
  meta: {},
});

const sample = (v: number | string | null, dtype: string) =>
  v === null
    ? null
    : {
        bytes:
          dtype === 'string'
            ? new TextEncoder().encode(v as string)
            : new Uint8Array(new Float64Array([v as number]).buffer),
        shape: [],
      };

const LONG = 'q'.repeat(63);

describe('chunk refutation by stats', () => {
  it.each(['float64', 'string'] as const)(
    'never refutes a chunk holding a matching %s value (NaN, infinities, cut string prefixes)',
    (dtype) => {
      const r = prng(dtype === 'string' ? 1 : 2);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
      const nums = [NaN, Infinity, -Infinity, 0, -1, 1.5, 2, 3, 10];
      const strs = ['', 'a', 'b', `${LONG}😀`, `${LONG}a`, `${LONG}b`, `${LONG}bz`, 'q'.repeat(70), '\uffff', '😀'];
      const lit = (): string => (dtype === 'string' ? `'${pick(strs)}'` : String(pick(nums.filter(Number.isFinite))));
      const typer = () => ({ type: dtype === 'string' ? ('string' as const) : ('number' as const) });
      let refuted = 0;
      for (let k = 0; k < 3000; k++) {
        const values = Array.from({ length: 1 + Math.floor(r() * 4) }, () =>
          r() < 0.2 ? null : dtype === 'string' ? pick(strs) : pick(nums),
        );
        const stats = readChunkStats(
          computeChunkStats(
            dtype,
            values.map((v) => sample(v, dtype)),
          ),
        )!;
        const text = pick([
          () => `x ${pick(['=', '<', '<=', '>', '>='])} ${lit()}`,
          () => `${lit()} ${pick(['=', '<', '<=', '>', '>='])} x`,
          () => `x BETWEEN ${lit()} AND ${lit()}`,
          () => `x IN (${lit()}, ${lit()})`,
          () => `x IS ${pick(['', 'NOT '])}NULL`,
        ])();
        const e = parseExpression(text);
        const [cond] = pushableConditions(e, () => column(dtype));
        expect(cond, text).toBeDefined();
        const result = compileFilter(e, typer)({ n: values.length, column: () => values });
        const matches = result.some((t) => t === TRUE);
        const may = cond.mayMatch(stats, values.length);
        if (matches) expect(may, `${text} over ${JSON.stringify(values)}`).toBe(true);
        if (!may) refuted++;
      }
      expect(refuted).toBeGreaterThan(300);
    },
  );
});
