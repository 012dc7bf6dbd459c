/** Entity key encoding, value codec and dtype parsing. */
import { describe, expect, it } from 'vitest';
import {
  coerceForDtype,
  decodeEntityKey,
  decodeRecord,
  decodeValue,
  encodeEntityKey,
  encodeRecord,
  encodeValue,
  getOnlineFeatures,
  materialize,
  SqliteOnlineStore,
  vectorDtype,
} from '../../src/online/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRepo, USER_VIEW } from './fixtures/fake-repo.js';

describe('entity keys', () => {
  it('are canonical: key order, number vs bigint', () => {
    expect(encodeEntityKey({ b: 'x', a: 1 })).toBe(encodeEntityKey({ a: 1n, b: 'x' }));
    expect(encodeEntityKey({ a: 1 })).not.toBe(encodeEntityKey({ a: '1' }));
    expect(encodeEntityKey({ a: 1.5 })).not.toBe(encodeEntityKey({ a: 1 }));
    expect(encodeEntityKey({ a: 1, extra: 2 }, ['a'])).toBe(encodeEntityKey({ a: 1 }));
  });

  it('never contain hash-tag braces or separators of their own, and decode back', () => {
    const key = { 'we{ird}': 'a,b=c:{d}%', n: -(2n ** 63n), f: 0.25, t: true, x: Uint8Array.from([1, 255]) };
    const text = encodeEntityKey(key);
    expect(text).not.toMatch(/[{}]/);
    expect(decodeEntityKey(text)).toEqual({
      'we{ird}': 'a,b=c:{d}%',
      n: -(2n ** 63n),
      f: 0.25,
      t: true,
      x: Uint8Array.from([1, 255]),
    });
  });

  it('reject null, objects and non-finite numbers naming the join key', () => {
    for (const bad of [null, undefined, {}, Number.NaN, Infinity]) {
      expect(() => encodeEntityKey({ user_id: bad })).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          details: expect.objectContaining({ field: 'user_id' }) as unknown,
        }),
      );
    }
    expect(() => encodeEntityKey({ a: 1 }, ['a', 'b'])).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'b' }) as unknown }),
    );
  });
});

describe('value codec', () => {
  it('stores float32 vectors as raw little-endian float32', () => {
    const v = Float32Array.from([1.5, -2, 3.25]);
    const b = encodeValue(v);
    expect(b.byteLength).toBe(1 + 12);
    expect(b.readFloatLE(1)).toBe(1.5);
    expect(decodeValue(b)).toEqual(v);
  });

  it('packs records and decodes a subset', () => {
    const rec = { a: 1, b: 'two', c: Float32Array.from([3]), d: null };
    const buf = encodeRecord(rec);
    expect(decodeRecord(buf)).toEqual(rec);
    expect(decodeRecord(buf, new Set(['b', 'd']))).toEqual({ b: 'two', d: null });
  });

  it('refuses functions and symbols; unknown tags are CORRUPT', () => {
    expect(() => encodeValue(() => 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => decodeValue(Buffer.from([200]))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

describe('dtypes', () => {
  it('recognises vector spellings', () => {
    expect(vectorDtype('float32[512]')).toEqual({ element: 'float32', dim: 512 });
    expect(vectorDtype('list<float32>')).toEqual({ element: 'float32' });
    expect(vectorDtype('list<float64>')).toEqual({ element: 'float64' });
    expect(vectorDtype('array<float, 8>')).toEqual({ element: 'float32', dim: 8 });
    expect(vectorDtype('embedding')).toEqual({ element: 'float32' });
    expect(vectorDtype('list<string>')).toEqual({ element: 'other' });
    expect(vectorDtype('float32')).toBeNull();
    expect(vectorDtype('int64')).toBeNull();
  });

  it('coerces lists to typed arrays by dtype, undefined to null', () => {
    expect(coerceForDtype([1, 2], 'float32[2]')).toEqual(Float32Array.from([1, 2]));
    expect(coerceForDtype(Float64Array.from([1, 2]), 'list<float32>')).toBeInstanceOf(Float32Array);
    expect(coerceForDtype([1, 2], 'list<float64>')).toBeInstanceOf(Float64Array);
    expect(coerceForDtype(['a'], 'list<string>')).toEqual(['a']);
    expect(coerceForDtype(undefined, 'int64')).toBeNull();
    expect(coerceForDtype(5, 'int64')).toBe(5);
  });
});

describe('repo shapes', () => {
  it('accepts views/services as arrays, Maps or records; bare view refs mean all features; online:false views are not materialized by default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-online-shapes-'));
    try {
      await using store = await SqliteOnlineStore.open(join(dir, 'o.sqlite'));
      const hidden = { ...USER_VIEW, name: 'hidden', online: false };
      const base = new FakeRepo([
        { view: 'user_stats', entityKey: { user_id: 1 }, values: { clicks: 2n, score: 1 }, ts: 10 },
        { view: 'hidden', entityKey: { user_id: 1 }, values: { clicks: 3n }, ts: 10 },
      ]);
      const repo = Object.assign(Object.create(base) as FakeRepo, {
        views: new Map([
          ['user_stats', USER_VIEW],
          ['hidden', hidden],
        ]),
        services: new Map([['all', { name: 'all', features: ['user_stats'] }]]),
        latestValues: base.latestValues.bind(base),
      });
      const r = await materialize(repo, store, { start: new Date(0), end: new Date(100) });
      expect(r.views.map((v) => v.view)).toEqual(['user_stats']);
      const res = await getOnlineFeatures(repo, store, {
        featureService: 'all',
        entities: { user_id: [1] },
        nowMs: 20,
      });
      expect(res.columns.map((c) => c.ref)).toEqual(USER_VIEW.features.map((f) => `user_stats:${f.name}`));
      expect(res.column('clicks').values).toEqual([2n]);
      const rec = Object.assign(Object.create(base) as FakeRepo, {
        views: { user_stats: USER_VIEW },
        services: { s: ['user_stats:score'] },
      });
      expect(
        (await getOnlineFeatures(rec, store, { featureService: 's', entities: { user_id: [1] }, nowMs: 20 })).column(
          'score',
        ).values,
      ).toEqual([1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
