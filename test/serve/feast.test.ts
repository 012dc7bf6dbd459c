import { describe, expect, it } from 'vitest';
import { OnlineFeatures, type FeatureColumn, type FeatureStatus } from '../../src/online/result.js';
import { feastResponse, isoTimestamp, jsonValue } from '../../src/serve/index.js';

/** The response as Feast lays it out, built the plain way: one JSON.parse'd value per cell. */
function expected(res: OnlineFeatures): unknown {
  const results: unknown[] = [];
  for (const col of Object.values(res.entities)) {
    results.push({
      values: col.map((v) => JSON.parse(jsonValue(v)) as unknown),
      statuses: col.map(() => 'PRESENT'),
      event_timestamps: col.map(() => '1970-01-01T00:00:00Z'),
    });
  }
  for (const c of res.columns) {
    results.push({
      values: c.values.map((v) => JSON.parse(jsonValue(v)) as unknown),
      statuses: [...c.statuses],
      event_timestamps: Array.from(c.eventTimestampsMs, (ms) => isoTimestamp(ms)),
    });
  }
  return { metadata: { feature_names: res.featureNames }, results };
}

function column(name: string, values: unknown[], statuses: FeatureStatus[], ts: number[]): FeatureColumn {
  return {
    name,
    ref: `v:${name}`,
    view: 'v',
    feature: name,
    dtype: 'any',
    values,
    statuses,
    eventTimestampsMs: Float64Array.from(ts),
  };
}

describe('feastResponse', () => {
  it('writes every kind of value in the column-per-feature layout', () => {
    const ts = [Date.UTC(2024, 0, 2, 3, 4, 5), Date.UTC(2024, 0, 2, 3, 4, 5, 250), 0];
    const res = new OnlineFeatures(
      { user_id: [1, 'b-2', 3n] },
      [
        column(
          'f32',
          [Float32Array.from([0.1, -2.5, 1e-12]), new Float32Array(0), null],
          ['PRESENT', 'PRESENT', 'NOT_FOUND'],
          ts,
        ),
        column('num', [1.5, Number.NaN, -0], ['PRESENT', 'PRESENT', 'PRESENT'], ts),
        column('text', ['plain', 'quote " and \\ back', 'ünïcødé ✓ 𝄞'], ['PRESENT', 'PRESENT', 'OUTSIDE_MAX_AGE'], ts),
        column(
          'misc',
          [2n ** 60n, Uint8Array.from([0, 255, 7]), new Date(ts[1])],
          ['PRESENT', 'NULL_VALUE', 'PRESENT'],
          ts,
        ),
        column(
          'nested',
          [Float64Array.from([1, Infinity]), [1, 'x', null], { a: [1, 2] }],
          ['PRESENT', 'PRESENT', 'PRESENT'],
          ts,
        ),
      ],
      3,
    );
    const text = feastResponse(res);
    expect(JSON.parse(text)).toEqual(expected(res));
    expect(text).toContain('"ünïcødé ✓ 𝄞"');
    expect(text).toContain('[0.100000001,-2.5,9.99999996e-13]');
  });

  it('grows for a large response and stays correct for the small ones after it', () => {
    let seed = 5;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const big = (rows: number) =>
      new OnlineFeatures(
        { id: Array.from({ length: rows }, (_, i) => i) },
        [
          column(
            'emb',
            Array.from({ length: rows }, () => Float32Array.from({ length: 512 }, rnd)),
            Array<'PRESENT'>(rows).fill('PRESENT'),
            Array<number>(rows).fill(1.7e12),
          ),
          column(
            'name',
            Array.from({ length: rows }, (_, i) => `n${i}é`),
            Array<'PRESENT'>(rows).fill('PRESENT'),
            Array<number>(rows).fill(1.7e12),
          ),
        ],
        rows,
      );
    for (const rows of [1, 300, 2, 1000, 1]) {
      const res = big(rows);
      const got = JSON.parse(feastResponse(res)) as { results: { values: number[][] }[] };
      expect(got).toEqual(expected(res));
      // every float comes back as the same float32
      const emb = res.columns[0].values as Float32Array[];
      got.results[1].values.forEach((v, r) => expect(Float32Array.from(v)).toEqual(emb[r]));
    }
  });
});
