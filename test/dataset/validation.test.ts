import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import type { DType } from '../../src/format/dtype.js';

let tmp = '';
beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-validation-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

let n = 0;
async function fresh(schema: Record<string, unknown>): Promise<Dataset> {
  return Dataset.create(path.join(tmp, `ds${n++}`), { schema: schema as never });
}

/** Every file below the dataset root, with its size: a failed call must leave this unchanged. */
async function files(ds: Dataset): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(`${path.relative(ds.uri, p)}:${(await fsp.stat(p)).size}`);
    }
  };
  await walk(ds.uri);
  return out.sort();
}

/** `op` fails with INVALID_ARGUMENT (naming `detail` when given), and a commit then stores nothing. */
async function refused(ds: Dataset, op: () => Promise<unknown>, detail?: Record<string, unknown>): Promise<void> {
  const before = await files(ds);
  const length = ds.length;
  await expect(op()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', ...(detail ? { details: detail } : {}) });
  await ds.commit('after a refused call');
  expect(ds.length).toBe(length);
  expect(await files(ds)).toEqual(before);
}

const BAD: Partial<Record<DType, unknown[]>> = {
  uint8: [256, -1, 1.5, NaN, 2n ** 8n, 'x'],
  int8: [128, -129, 0.5, NaN, -(2n ** 7n) - 1n],
  uint16: [65536, -1, 2.5, Infinity],
  int16: [32768, -32769, 1.25],
  uint32: [2 ** 32, -1, 0.1],
  int32: [2 ** 31, -(2 ** 31) - 1, 1.5, NaN],
  uint64: [-1, 2n ** 64n, -1n, 1.5, 2 ** 64],
  int64: [2n ** 70n, 2n ** 63n, -(2n ** 63n) - 1n, 1.5, 2 ** 63, NaN],
  float16: [1e6, 'x'],
  float32: [1e39, -1e39, 'x', 1n],
  float64: ['1', null],
  bool: [2, -1, 'true'],
};
const GOOD: Partial<Record<DType, unknown[]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 2 ** 32 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint64: [0n, 2n ** 64n - 1n, 2 ** 53],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, -(2 ** 53)],
  float16: [NaN, Infinity, 65504],
  float32: [NaN, -Infinity, 3.4028234663852886e38],
  float64: [NaN, Number.MAX_VALUE],
  bool: [true, false, 0, 1],
};

describe('numeric arrays get the same per-dtype checks as scalars', () => {
  it('the issue cases: uint8 [300, -1], int32 [1.5, NaN], int64 2n**70n and 1.5', async () => {
    const ds = await fresh({ u: 'uint8', i: 'int32', l: 'int64' });
    await ds.append({ u: [1, 2], i: [3, 4], l: 5n });
    await ds.commit('one good row');
    await refused(ds, () => ds.append({ u: [300, -1], i: [1], l: 1n }), { column: 'u', row: 1 });
    await refused(ds, () => ds.append({ u: [1], i: [1.5, NaN], l: 1n }), { column: 'i', row: 1 });
    await refused(ds, () => ds.append({ u: [1], i: [1], l: 2n ** 70n }), { column: 'l', row: 1 });
    await refused(ds, () => ds.append({ u: [1], i: [1], l: 1.5 }), { column: 'l', row: 1 });
    await refused(ds, () => ds.append({ u: [1], i: [1], l: [1n, 2n ** 70n] }), { column: 'l', row: 1 });
    expect(await ds.row(0)).toMatchObject({ l: 5n });
  });

  for (const [dtype, bad] of Object.entries(BAD) as [DType, unknown[]][]) {
    it(`${dtype}: out-of-range or wrong-kind elements are refused in scalars, arrays, nested arrays, tensors`, async () => {
      const ds = await fresh({ x: dtype });
      for (const v of bad) {
        const forms: unknown[] = [
          [v],
          [GOOD[dtype]![0], v],
          [[GOOD[dtype]![0]], [v]],
          { data: [GOOD[dtype]![0], v], shape: [2] },
        ];
        if (typeof v === 'number' || typeof v === 'bigint') forms.push(v);
        for (const form of forms) await refused(ds, () => ds.append({ x: form }), { column: 'x', row: 0 });
      }
      await ds.append([{ x: GOOD[dtype]! }, { x: GOOD[dtype]![1] }]);
      await ds.commit('good');
      expect(ds.length).toBe(2);
      const back = (await ds.row(0)).x as { data: ArrayLike<unknown> };
      expect(Array.from(back.data).map(String)).toEqual(
        GOOD[dtype]!.map((g) =>
          String(dtype === 'bool' ? Number(g) : typeof back.data[0] === 'bigint' ? BigInt(g as number) : g),
        ),
      );
    });
  }

  it('typed arrays are checked too (Float64Array into int32, Int32Array into uint8)', async () => {
    const ds = await fresh({ i: 'int32', u: 'uint8' });
    await refused(ds, () => ds.append({ i: Float64Array.of(1, 2.5) }), { column: 'i', row: 0 });
    await refused(ds, () => ds.append({ u: Int32Array.of(1, 256) }), { column: 'u', row: 0 });
  });

  it('negative, non-integer or ragged shapes are refused', async () => {
    const ds = await fresh({ x: 'float32' });
    for (const t of [
      { data: [1, 2], shape: [-1, -2] },
      { data: [1, 2], shape: [0.5, 4] },
      { data: [1, 2], shape: '2' },
      { data: 'ab', shape: [2] },
      [[1], [2, 3], []],
      [[1, 2], [3]],
      [1, [2]],
    ]) {
      await refused(ds, () => ds.append({ x: t }), { column: 'x', row: 0 });
    }
    await expect(fresh({ y: { htype: 'generic', dtype: 'float32', shape: [2, -3] } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('rows and columns of the wrong kind are refused, never stored', () => {
  it('append(null), append([1, 2]) and append of a string are INVALID_ARGUMENT', async () => {
    const ds = await fresh({ v: 'text' });
    await refused(ds, () => ds.append(null as never));
    await refused(ds, () => ds.append([1, 2] as never), { row: 0 });
    await refused(ds, () => ds.append('abc' as never));
    await refused(ds, () => ds.append([{ v: 'fine' }, null] as never), { row: 1 });
  });

  it("extend({ v: 'abc' }) is not a column of three characters", async () => {
    const ds = await fresh({ v: 'text' });
    await refused(ds, () => ds.extend({ v: 'abc' } as never), { column: 'v' });
    await refused(ds, () => ds.extend(null as never));
    await ds.extend({ v: ['abc'] });
    await ds.commit('one');
    expect(await ds.values('v')).toEqual(['abc']);
  });

  it('a bad row late in a batch leaves earlier rows and class names unstored', async () => {
    const ds = await fresh({ label: 'class_label', x: 'uint8' });
    await refused(ds, () =>
      ds.append([
        { label: 'cat', x: 1 },
        { label: 'dog', x: 300 },
      ]),
    );
    expect(ds.columnMeta('label')).toEqual({ classNames: [] });
    await ds.append({ label: 'bird', x: 2 });
    await ds.commit('bird');
    expect(ds.columnMeta('label')).toEqual({ classNames: ['bird'] });
    expect(await ds.values('label')).toEqual(['bird']);
  });

  it('__proto__, constructor and prototype are not column names', async () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const schema = JSON.parse(`{"ok": "text", "${name}": "text"}`) as Record<string, unknown>;
      const dir = path.join(tmp, `reserved-${name}`);
      await expect(Dataset.create(dir, { schema: schema as never })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { column: name },
      });
      await expect(fsp.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
      const ds = await fresh({ ok: 'text' });
      expect(() => ds.addColumn(name, 'text')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      await refused(ds, () => ds.append(JSON.parse(`{"ok": "a", "${name}": "b"}`) as Record<string, unknown>));
    }
  });
});
