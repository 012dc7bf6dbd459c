import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  type DataType,
  type Field,
  FixedSizeList,
  type Float32,
  Int32,
  List,
  tableFromArrays,
  tableFromIPC,
  tableToIPC,
  Type,
  Utf8,
  type Vector,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageCell, VideoCell } from '../../src/dataset/cells.js';
import { Dataset } from '../../src/dataset/dataset.js';
import { makeJpeg, makePng, makeVideo } from '../helpers/media.js';

const N = 5;
let dir: string;
let ds: Dataset;
let jpegs: Uint8Array[];
let video: Uint8Array;
let linked: string[];

const schema = {
  image: { htype: 'image', sampleCompression: 'jpeg' },
  clip: 'video',
  label: { htype: 'class_label', classNames: ['cat', 'dog'] },
  boxes: { htype: 'bbox', format: 'ltwh', coords: 'pixel' },
  vec: { htype: 'embedding', dim: 3, meta: { model: 'tiny' } },
  caption: 'text',
  meta: 'json',
  score: 'float32',
  big: 'int64',
  flag: 'bool',
  mask: { htype: 'generic', dtype: 'uint8' },
  file: { htype: 'link', target: 'image' },
} as const;

function rowOf(i: number): Record<string, unknown> {
  return {
    image: jpegs[i],
    clip: i === 0 ? video : null,
    label: i === 4 ? null : ['cat', 'dog', 'bird'][i % 3],
    boxes:
      i === 3
        ? []
        : [
            [i, 2, 10, 12],
            [0.5, 1.5, 3, 4],
          ].slice(0, 1 + (i % 2)),
    vec: i === 2 ? null : [i, 1 - i, 0.25],
    caption: i === 1 ? null : `caption ${i} ✓`,
    meta: { i, tags: ['x', String(i)], nested: { ok: i % 2 === 0 } },
    score: i / 4,
    big: BigInt(2 ** 40 + i),
    flag: i % 2 === 0,
    mask: i === 4 ? null : { data: Uint8Array.from({ length: (i + 1) * 2 }, (_, k) => k + i), shape: [i + 1, 2] },
    file: linked[i],
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-interop-'));
  jpegs = [];
  linked = [];
  for (let i = 0; i < N; i++) {
    jpegs.push(await makeJpeg({ width: 16 + i * 4, height: 12, seed: i + 1 }));
    const f = path.join(dir, `linked${i}.png`);
    await writeFile(f, await makePng({ width: 8, height: 8 + i, seed: 50 + i }));
    linked.push(f);
  }
  video = await makeVideo({ frames: 3, fps: 3, width: 32, height: 32, format: 'mp4' });
  ds = await Dataset.create(`memory://interop-${Date.now()}`, { schema });
  for (let i = 0; i < N; i++) await ds.append(rowOf(i));
  await ds.commit('all htypes');
});

afterAll(async () => {
  await ds?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every cell of two datasets compared: media by bytes, tensors by data and shape. */
async function expectSameData(a: Dataset, b: Dataset): Promise<void> {
  expect(b.length).toBe(a.length);
  expect(b.columns).toEqual(a.columns);
  expect(b.schema).toEqual(a.schema);
  const ra = await a.toArray();
  const rb = await b.toArray();
  for (let i = 0; i < ra.length; i++) {
    for (const c of a.columns) {
      const x = ra[i][c];
      const y = rb[i][c];
      if (x && typeof x === 'object' && 'bytes' in x) {
        expect(
          Buffer.compare(
            Buffer.from(await (x as ImageCell).bytes()),
            Buffer.from(await (y as ImageCell | VideoCell).bytes()),
          ),
          `${c}[${i}]`,
        ).toBe(0);
        expect((y as ImageCell).shape).toEqual((x as ImageCell).shape);
      } else if (x && typeof x === 'object' && 'data' in x) {
        expect(Array.from((y as { data: ArrayLike<number> }).data), `${c}[${i}]`).toEqual(
          Array.from((x as { data: ArrayLike<number> }).data),
        );
        expect((y as { shape: number[] }).shape).toEqual((x as unknown as { shape: number[] }).shape);
      } else {
        expect(y, `${c}[${i}]`).toEqual(x);
      }
    }
  }
}

describe('Arrow', () => {
  it('toArrow: one field per column with Arrow types and Strata metadata', async () => {
    const t = await ds.toArrow();
    expect(t.numRows).toBe(N);
    const fields = t.schema.fields as Field<DataType>[]; // Arrow types a schema's fields as Field<any>
    const f = Object.fromEntries(fields.map((x) => [x.name, x]));
    expect(f.image.type.typeId).toBe(Type.Binary);
    expect(f.clip.type.typeId).toBe(Type.Binary);
    expect(f.label.type).toBeInstanceOf(Int32);
    expect(f.boxes.type).toBeInstanceOf(List);
    expect(f.vec.type).toBeInstanceOf(FixedSizeList);
    expect((f.vec.type as FixedSizeList).listSize).toBe(3);
    expect(f.caption.type).toBeInstanceOf(Utf8);
    expect(f.big.type.typeId).toBe(Type.Int);
    expect(f.mask.type).toBeInstanceOf(List);
    expect(f.mask__shape).toBeDefined();
    expect(f.label.metadata.get('strata.htype')).toBe('class_label');
    expect(JSON.parse(f.label.metadata.get('strata.meta')!)).toEqual({ classNames: ['cat', 'dog', 'bird'] });
    expect(JSON.parse(f.boxes.metadata.get('strata.meta')!)).toEqual({ format: 'ltwh', coords: 'pixel' });
    expect(t.getChild('label')!.toArray()).toEqual(new Int32Array([0, 1, 2, 0, 0]));
    expect(t.getChild('label')!.get(4)).toBeNull();
    expect(t.getChild('big')!.get(2)).toBe(BigInt(2 ** 40 + 2));
    expect(Buffer.compare(Buffer.from(t.getChild('image')!.get(1) as Uint8Array), Buffer.from(jpegs[1]))).toBe(0);
    expect(Array.from((t.getChild('vec')!.get(1) as Vector<Float32>).toArray())).toEqual([1, 0, 0.25]);
    expect(t.getChild('file')!.get(2)).toBe(linked[2]);
    const sel = await ds.slice(1, 3).toArrow({ columns: ['caption', 'score'] });
    expect(sel.schema.fields.map((x) => x.name)).toEqual(['caption', 'score']);
    expect(sel.getChild('score')!.toArray()).toEqual(new Float32Array([0.25, 0.5]));
  });

  it('toArrowBatches: the rows of toArrow in batches of batchRows, same schema, every htype', async () => {
    const { toArrowBatches } = await import('../../src/interop/arrow.js');
    const whole = await ds.toArrow();
    const batches = [];
    for await (const b of toArrowBatches(ds, { batchRows: 2 })) batches.push(b);
    expect(batches.map((b) => b.numRows)).toEqual([2, 2, 1]);
    const types = (fields: readonly Field[]) => fields.map((f) => `${f.name}:${String(f.type)}`);
    for (const b of batches) expect(types(b.schema.fields)).toEqual(types(whole.schema.fields));
    // cells as plain JS: nested vectors and byte arrays as arrays
    const js = (v: unknown): unknown =>
      v instanceof Uint8Array
        ? Array.from(v)
        : v !== null && typeof v === 'object' && 'toArray' in v
          ? Array.from(v as unknown as Iterable<unknown>, js)
          : v;
    const cells = (vec: { length: number; get(i: number): unknown }) =>
      Array.from({ length: vec.length }, (_, i) => js(vec.get(i)));
    for (const f of whole.schema.fields)
      expect({ f: f.name, v: batches.flatMap((b) => cells(b.getChild(f.name)!)) }).toEqual({
        f: f.name,
        v: cells(whole.getChild(f.name)!),
      });
    const empty = [];
    for await (const b of toArrowBatches(ds.slice(0, 0), { columns: ['caption'] })) empty.push(b);
    expect(empty.map((b) => [b.numRows, b.schema.fields.map((f) => f.name)])).toEqual([[0, ['caption']]]);
  });

  it('fromArrow round-trips every htype, also through Arrow IPC bytes', async () => {
    const t = await ds.toArrow();
    const back = await Dataset.fromArrow(t, `memory://from-arrow-${Date.now()}`);
    await expectSameData(ds, back);
    expect(back.columnMeta('vec')).toEqual({ model: 'tiny', dim: 3 });
    await back.close();
    const ipc = tableFromIPC(tableToIPC(t));
    const back2 = await Dataset.fromArrow(ipc, `memory://from-ipc-${Date.now()}`);
    await expectSameData(ds, back2);
    await back2.close();
  });

  it('fromArrow infers htypes for plain Arrow tables (dictionary strings → class_label)', async () => {
    const t = tableFromArrays({ name: ['a', 'b'], n: Int32Array.from([1, 2]), x: Float64Array.from([0.5, 1.5]) });
    const d = await Dataset.fromArrow(t, `memory://plain-${Date.now()}`);
    expect(d.schema).toEqual({
      name: { htype: 'class_label', classNames: ['a', 'b'] },
      n: expect.objectContaining({ htype: 'generic', dtype: 'int32' }) as unknown,
      x: expect.objectContaining({ htype: 'generic', dtype: 'float64' }) as unknown,
    });
    expect(await d.toArray()).toEqual([
      { name: 'a', n: 1, x: 0.5 },
      { name: 'b', n: 2, x: 1.5 },
    ]);
    await d.close();
  });
});

describe('Parquet', () => {
  it('toParquet writes a file DuckDB reads with the same values', async () => {
    const file = path.join(dir, 'all.parquet');
    await ds.toParquet(file);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const rows = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJS();
      expect(rows).toHaveLength(N);
      for (let i = 0; i < N; i++) {
        const r = rows[i];
        const want = rowOf(i);
        expect(Buffer.compare(Buffer.from(r.image as Uint8Array), Buffer.from(jpegs[i]))).toBe(0);
        expect(r.clip === null ? null : Buffer.from(r.clip as Uint8Array).length).toBe(i === 0 ? video.length : null);
        expect(r.label).toBe(want.label ?? null);
        expect(r.boxes).toEqual((want.boxes as number[][]).flat());
        expect(r.vec).toEqual(want.vec === null ? [] : (want.vec as number[]));
        expect(r.caption).toBe(want.caption);
        expect(JSON.parse(r.meta as string)).toEqual(want.meta);
        expect(r.score).toBeCloseTo(i / 4, 6);
        expect(r.big).toBe(BigInt(2 ** 40 + i));
        expect(r.flag).toBe(i % 2 === 0);
        expect(r.file).toBe(linked[i]);
        const m = want.mask as { data: Uint8Array; shape: number[] } | null;
        expect(r.mask).toEqual(m ? Array.from(m.data) : []);
        expect(r.mask__shape).toEqual(m ? m.shape : []);
      }
      const agg = (
        await conn.runAndReadAll(
          `SELECT label, count(*)::INT AS n FROM read_parquet('${file}') GROUP BY label ORDER BY label NULLS LAST`,
        )
      ).getRowObjectsJS();
      expect(agg).toEqual([
        { label: 'bird', n: 1 },
        { label: 'cat', n: 2 },
        { label: 'dog', n: 1 },
        { label: null, n: 1 },
      ]);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });

  it('fromParquet restores the dataset (list nulls read back empty, see parquet.ts)', async () => {
    const file = path.join(dir, 'rt.parquet');
    const src = ds.select([
      'image',
      'clip',
      'label',
      'boxes',
      'caption',
      'meta',
      'score',
      'big',
      'flag',
      'file',
      'mask',
    ]);
    await src.toParquet(file);
    const back = await Dataset.fromParquet(file, `memory://from-parquet-${Date.now()}`);
    expect(back.columns).toEqual(src.columns);
    const a = await src.toArray();
    const b = await back.toArray();
    for (let i = 0; i < N; i++) {
      for (const c of ['label', 'boxes', 'caption', 'meta', 'score', 'big', 'flag'] as const)
        expect(b[i][c], `${c}[${i}]`).toEqual(a[i][c]);
      expect(Buffer.compare(Buffer.from(await (b[i].image as ImageCell).bytes()), Buffer.from(jpegs[i]))).toBe(0);
      expect(
        Buffer.compare(
          Buffer.from(await (b[i].file as ImageCell).bytes()),
          Buffer.from(await (a[i].file as ImageCell).bytes()),
        ),
      ).toBe(0);
      const m = a[i].mask as { data: Uint8Array; shape: number[] } | null;
      expect(
        b[i].mask === null
          ? null
          : {
              data: Array.from((b[i].mask as { data: Uint8Array }).data),
              shape: (b[i].mask as { shape: number[] }).shape,
            },
      ).toEqual(m && { data: Array.from(m.data), shape: m.shape });
    }
    expect((b[0].clip as VideoCell).info.frameCount).toBe(3);
    expect(back.schema).toEqual(src.schema);
    await back.close();
  });

  it('fromParquet reads plain Parquet files written by DuckDB', async () => {
    const file = path.join(dir, 'duck.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT 'r' || i AS name, i::INT AS n, i / 2.0 AS x FROM range(3) t(i)) TO '${file}' (FORMAT parquet)`,
    );
    conn.closeSync();
    db.closeSync();
    const d = await Dataset.fromParquet(file, `memory://duck-${Date.now()}`);
    expect(d.schema.name.htype).toBe('text');
    expect(await d.values('name')).toEqual(['r0', 'r1', 'r2']);
    expect(await d.values('n')).toEqual([0, 1, 2]);
    await d.close();
  });
});

describe('danfo', () => {
  it('toDanfo gives a DataFrame of the tabular columns, media as descriptions or URLs', async () => {
    const df = await ds.toDanfo({ columns: ['caption', 'label', 'score', 'flag', 'image', 'file', 'vec', 'boxes'] });
    expect(df.shape).toEqual([N, 8]);
    expect(df.columns).toEqual(['caption', 'label', 'score', 'flag', 'image', 'file', 'vec', 'boxes']);
    const score = df.column('score').values as number[];
    score.forEach((v, i) => expect(v).toBeCloseTo(i / 4, 6));
    expect(df.column('label').values).toEqual(['cat', 'dog', 'bird', 'cat', null]);
    expect((df.column('image').values as string[])[0]).toBe('<image 12×16×3 jpeg>');
    expect(df.column('file').values).toEqual(linked);
    expect((df.column('vec').values as string[])[0]).toBe('float32[3]');
    const shapes = await ds.head(1).toDanfo({ columns: ['image'], media: 'shape' });
    expect(shapes.column('image').values).toEqual(['12×16×3']);
  });

  it('importing src/index.ts loads neither danfo nor TensorFlow.js', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).filter((k) => /danfojs|@tensorflow/.test(k)).length;
      await import(${JSON.stringify(path.resolve('src/index.ts'))});
      const before = loaded();
      await import('danfojs-node');
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: path.resolve('.') },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { before: number; after: number };
    expect(out.before).toBe(0);
    expect(out.after).toBeGreaterThan(0);
  });
});
