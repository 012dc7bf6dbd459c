/**
 * takeVector copies rows buffer to buffer: 64-bit integers and timestamps (as word pairs, values
 * beyond 2^53 and negative ones exact), floats and ints, one chunk or several, nulls kept.
 */
import * as A from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { takeVector } from '../../src/features/engine/take.js';

const big = [2n ** 62n + 7n, -(2n ** 60n) - 3n, 0n, -1n, 9007199254740993n, 123n];
const times = [-86_400_001n, 0n, 1_700_000_000_123n, -1n, 2n ** 53n - 1n, 5n];
const idx = Int32Array.from([5, 0, 3, 3, 1, 4, 2]);

function int64(values: bigint[], nulls: number[] = []): A.Data {
  const bitmap = new Uint8Array(1).fill(0xff);
  for (const i of nulls) bitmap[0] &= ~(1 << i);
  return A.makeData({
    type: new A.Int64(),
    length: values.length,
    data: BigInt64Array.from(values),
    ...(nulls.length ? { nullBitmap: bitmap, nullCount: nulls.length } : {}),
  } as never);
}

const want = (v: A.Vector) => Array.from(idx, (i) => v.get(i) as unknown);

describe('takeVector', () => {
  it('int64 values (> 2^53, negative) from one chunk and from several, with nulls', () => {
    const one = A.makeVector(int64(big, [2]));
    expect([...takeVector(one, idx)]).toEqual(want(one));
    expect(takeVector(one, idx).get(0)).toBe(123n);
    const two = new A.Vector([int64(big.slice(0, 4), [1]), int64(big.slice(4))]);
    expect([...takeVector(two, idx)]).toEqual(want(two));
    expect(takeVector(two, idx).nullCount).toBe(1);
  });

  it('timestamps, float64 and int32 from one chunk and from several', () => {
    const ts = A.makeVector(
      A.makeData({ type: new A.TimestampMillisecond(), length: 6, data: BigInt64Array.from(times) } as never),
    );
    expect([...takeVector(ts, idx)]).toEqual(want(ts));
    expect(takeVector(ts, idx).type).toBeInstanceOf(A.TimestampMillisecond);
    const f = A.makeVector(Float64Array.from([0.5, -1, NaN, 3, 1e300, -0]));
    expect([...takeVector(f, idx)]).toEqual(want(f));
    const i32 = new A.Vector([
      A.makeVector(Int32Array.from([1, 2, 3])).data[0],
      A.makeVector(Int32Array.from([4, 5, 6])).data[0],
    ]);
    expect([...takeVector(i32, idx)]).toEqual([6, 1, 4, 4, 2, 5, 3]);
  });
});
