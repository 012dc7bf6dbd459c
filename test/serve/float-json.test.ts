/** float32 vectors → JSON text: valid JSON, ≤ 9 significant digits, exact float32 round trip. */
import { describe, expect, it } from 'vitest';
import { float32ArrayJson } from '../../src/serve/index.js';
import { rng } from '../online/fixtures/fake-repo.js';

describe('float32ArrayJson', () => {
  it('round-trips every float32 bit pattern class exactly', () => {
    const r = rng(3);
    const v = new Float32Array(50_000);
    const bits = new Uint32Array(v.buffer);
    for (let i = 0; i < v.length; i++) bits[i] = Math.floor(r() * 2 ** 32);
    const special = [
      0,
      -0,
      1,
      -1,
      0.1,
      0.5,
      100,
      1e-45,
      1.17549435e-38,
      3.4028234663852886e38,
      16777216,
      123456789,
      1e-7,
      1e-8,
      1e21,
      2.5e-3,
      NaN,
      Infinity,
      -Infinity,
    ];
    v.set(special.map(Math.fround));
    const text = float32ArrayJson(v);
    const back = JSON.parse(text) as (number | null)[];
    expect(back).toHaveLength(v.length);
    let bad = 0;
    for (let i = 0; i < v.length; i++) {
      const want = v[i];
      const got = back[i];
      if (!Number.isFinite(want)) {
        if (got !== null) bad++;
      } else if (got === null || Math.fround(got) !== want || Object.is(want, -0) !== Object.is(got, -0)) bad++;
    }
    expect(bad).toBe(0);
    for (const tok of text.slice(1, -1).split(','))
      expect(tok.replace(/^-|e.*$|\./g, '').replace(/^0+/, '').length).toBeLessThanOrEqual(9);
  });

  it('prints short forms', () => {
    expect(float32ArrayJson(Float32Array.from([0.5, 2, 100, -0.25, 0.1, 1e-10, 2 ** 40, 2 ** -30]))).toBe(
      '[0.5,2,100,-0.25,0.100000001,1.00000001e-10,1.09951163e12,9.31322575e-10]',
    );
    expect(float32ArrayJson(new Float32Array(0))).toBe('[]');
  });
});
