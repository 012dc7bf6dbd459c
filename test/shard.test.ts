import { describe, expect, it } from 'vitest';
import { isStrataError } from '../src/errors.js';
import { parseShard, resolveShard, shardOfKey } from '../src/shard.js';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isStrataError(err) ? err.code : 'not a StrataError';
  }
  return undefined;
}

describe('resolveShard', () => {
  it('an explicit shard wins; i/n parses; no shard and no runner: the whole job', () => {
    expect(resolveShard({ env: {} })).toBeUndefined();
    expect(resolveShard({ shard: '2/8', env: { JOB_COMPLETION_INDEX: '1', STRATA_SHARDS: '4' } })).toEqual({
      index: 2,
      count: 8,
    });
    expect(resolveShard({ shard: { index: 0, count: 1 }, env: {} })).toEqual({ index: 0, count: 1 });
    expect(parseShard(' 3/4 ')).toEqual({ index: 3, count: 4 });
    expect(resolveShard({ env: { STRATA_SHARDS: '4' } })).toBeUndefined();
  });

  it('Kubernetes Indexed Job: JOB_COMPLETION_INDEX with --shards or STRATA_SHARDS', () => {
    expect(resolveShard({ env: { JOB_COMPLETION_INDEX: '3', STRATA_SHARDS: '4' } })).toEqual({ index: 3, count: 4 });
    expect(resolveShard({ shards: 10, env: { JOB_COMPLETION_INDEX: '9', STRATA_SHARDS: '4' } })).toEqual({
      index: 9,
      count: 10,
    });
    expect(resolveShard({ shards: '6', env: { JOB_COMPLETION_INDEX: '0' } })).toEqual({ index: 0, count: 6 });
  });

  it('AWS Batch array job: AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE', () => {
    expect(resolveShard({ env: { AWS_BATCH_JOB_ARRAY_INDEX: '7', AWS_BATCH_JOB_ARRAY_SIZE: '8' } })).toEqual({
      index: 7,
      count: 8,
    });
  });

  it('INVALID_ARGUMENT: index ≥ count, a missing count, a count without an index, junk', () => {
    expect(code(() => resolveShard({ shard: '4/4', env: {} }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveShard({ shard: { index: -1, count: 2 }, env: {} }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveShard({ shard: '0/0', env: {} }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveShard({ shard: '1', env: {} }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveShard({ shard: 'a/b', env: {} }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveShard({ env: { JOB_COMPLETION_INDEX: '2' } }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveShard({ env: { JOB_COMPLETION_INDEX: '4', STRATA_SHARDS: '4' } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => resolveShard({ env: { AWS_BATCH_JOB_ARRAY_INDEX: '0' } }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveShard({ env: { AWS_BATCH_JOB_ARRAY_INDEX: '2', AWS_BATCH_JOB_ARRAY_SIZE: '2' } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => resolveShard({ shards: 4, env: {} }))).toBe('INVALID_ARGUMENT');
  });

  it('shardOfKey is stable and spreads keys over every shard', () => {
    expect(shardOfKey('cat/c0.jpg', 7)).toBe(shardOfKey('cat/c0.jpg', 7));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) counts[shardOfKey(`img/${i}.jpg`, 4)]++;
    expect(Math.min(...counts)).toBeGreaterThan(60);
    // the assignment is fixed by sha256, not by this process: a known key's shard never changes
    expect(shardOfKey('a', 1_000_000)).toBe(
      Number(BigInt('0xca978112ca1b') % 1_000_000n), // sha256('a') starts ca978112ca1b
    );
  });
});
