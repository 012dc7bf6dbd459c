/**
 * Gathering rows by index: `takeVector(v, idx)` is `idx.map((i) => v.get(i))` as one vector of the
 * same type. Fixed-width numbers, booleans and UTF-8 strings are copied buffer to buffer (over any
 * number of chunks); other types go through their values (`vectorOf` of the column's dtype).
 */
import * as A from 'apache-arrow';
import { dtypeOfArrow } from '../definitions/dtypes.js';
import { vectorOf } from './build.js';

type Values = Int8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** Chunk index and row inside it of each global row (chunk starts in `starts`). */
function locate(chunks: readonly A.Data[]): { starts: Float64Array; find: (i: number) => number } {
  const starts = new Float64Array(chunks.length + 1);
  for (let c = 0; c < chunks.length; c++) starts[c + 1] = starts[c] + chunks[c].length;
  if (chunks.length === 1) return { starts, find: () => 0 };
  let last = 0;
  const find = (i: number): number => {
    if (i >= starts[last] && i < starts[last + 1]) return last;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return (last = lo);
  };
  return { starts, find };
}

function validity(chunks: readonly A.Data[], idx: Int32Array, find: (i: number) => number, starts: Float64Array) {
  if (!chunks.some((d) => d.nullCount > 0)) return { nullBitmap: undefined, nullCount: 0 };
  const bits = new Uint8Array((idx.length + 7) >> 3);
  let nulls = 0;
  for (let k = 0; k < idx.length; k++) {
    const c = find(idx[k]);
    if (chunks[c].getValid(idx[k] - starts[c])) bits[k >> 3] |= 1 << (k & 7);
    else nulls++;
  }
  return { nullBitmap: nulls ? bits : undefined, nullCount: nulls };
}

function takeFast(type: A.DataType, chunks: readonly A.Data[], idx: Int32Array): A.Data | null {
  if (chunks.some((d) => d.offset !== 0 || d.dictionary || !A.util.compareTypes(d.type, type))) return null;
  const { starts, find } = locate(chunks);
  const n = idx.length;
  const fixed =
    A.DataType.isInt(type) || A.DataType.isFloat(type) || A.DataType.isTimestamp(type) || A.DataType.isDate(type);
  if (fixed) {
    const first = chunks[0].values as Values;
    const stride = chunks[0].stride;
    const out = new (first.constructor as new (length: number) => Values)(n * stride);
    if (first instanceof BigInt64Array && stride === 1) {
      // 64-bit integers as pairs of 32-bit words: no BigInt per value
      const words = new Int32Array(out.buffer);
      const srcWords = chunks.map((d) => {
        const v = d.values as BigInt64Array;
        return new Int32Array(v.buffer, v.byteOffset, v.length * 2);
      });
      if (chunks.length === 1) {
        const src = srcWords[0];
        for (let k = 0; k < n; k++) {
          const at = idx[k] * 2;
          words[2 * k] = src[at];
          words[2 * k + 1] = src[at + 1];
        }
      } else
        for (let k = 0; k < n; k++) {
          const c = find(idx[k]);
          const at = (idx[k] - starts[c]) * 2;
          words[2 * k] = srcWords[c][at];
          words[2 * k + 1] = srcWords[c][at + 1];
        }
      return A.makeData({ type, length: n, data: out, ...validity(chunks, idx, find, starts) } as never);
    }
    if (chunks.length === 1 && stride === 1) {
      for (let k = 0; k < n; k++) out[k] = first[idx[k]];
      return A.makeData({ type, length: n, data: out, ...validity(chunks, idx, find, starts) } as never);
    }
    for (let k = 0; k < n; k++) {
      const c = find(idx[k]);
      const src = chunks[c].values as Values;
      const at = (idx[k] - starts[c]) * stride;
      for (let s = 0; s < stride; s++) out[k * stride + s] = src[at + s];
    }
    return A.makeData({ type, length: n, data: out, ...validity(chunks, idx, find, starts) } as never);
  }
  if (A.DataType.isBool(type)) {
    const out = new Uint8Array((n + 7) >> 3);
    for (let k = 0; k < n; k++) {
      const c = find(idx[k]);
      const i = idx[k] - starts[c];
      const src = chunks[c].values as Uint8Array;
      if (src[i >> 3] & (1 << (i & 7))) out[k >> 3] |= 1 << (k & 7);
    }
    return A.makeData({ type, length: n, data: out, ...validity(chunks, idx, find, starts) } as never);
  }
  if (A.DataType.isUtf8(type) || A.DataType.isBinary(type)) {
    const offsets = new Int32Array(n + 1);
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const c = find(idx[k]);
      const o = chunks[c].valueOffsets as Int32Array;
      const i = idx[k] - starts[c];
      bytes += o[i + 1] - o[i];
      offsets[k + 1] = bytes;
    }
    const data = new Uint8Array(bytes);
    for (let k = 0; k < n; k++) {
      const c = find(idx[k]);
      const o = chunks[c].valueOffsets as Int32Array;
      const i = idx[k] - starts[c];
      data.set((chunks[c].values as Uint8Array).subarray(o[i], o[i + 1]), offsets[k]);
    }
    return A.makeData({
      type,
      length: n,
      data,
      valueOffsets: offsets,
      ...validity(chunks, idx, find, starts),
    } as never);
  }
  return null;
}

/** Rows `idx` of `vec`, in that order. */
export function takeVector(vec: A.Vector, idx: Int32Array): A.Vector {
  const fast = vec.data.length > 0 ? takeFast(vec.type as A.DataType, vec.data as A.Data[], idx) : null;
  if (fast) return A.makeVector(fast);
  const rows = new Array<unknown>(idx.length);
  for (let k = 0; k < idx.length; k++) rows[k] = vec.get(idx[k]);
  return vectorOf(rows, dtypeOfArrow(vec.type as A.DataType));
}

/** Rows `idx` of every column, as one record batch (columns in the schema's order, plus `extra`). */
export function takeBatch(
  columns: readonly { name: string; vector: A.Vector }[],
  idx: Int32Array,
  extra: readonly { name: string; vector: A.Vector }[] = [],
): A.RecordBatch {
  const taken = columns.map((c) => ({ name: c.name, vector: takeVector(c.vector, idx) })).concat(extra);
  const fields = taken.map((c) => new A.Field(c.name, c.vector.type as A.DataType, true));
  const struct = A.makeData({
    type: new A.Struct(fields),
    length: idx.length,
    nullCount: 0,
    children: taken.map((c) => c.vector.data[0] as A.Data),
  });
  return new A.RecordBatch(new A.Schema(fields), struct);
}

/** Rows `idx` of a table, as a table of one batch. */
export function takeTable(table: A.Table, idx: Int32Array): A.Table {
  return new A.Table(
    takeBatch(
      table.schema.fields.map((f) => ({ name: f.name, vector: table.getChild(f.name)! })),
      idx,
    ),
  );
}
