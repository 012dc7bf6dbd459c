/**
 * DuckDB result vectors copied into Arrow buffers (the Parquet reader's columns, parquet-duckdb.ts):
 * whole-column copies where the element needs no conversion, µs → ms on 32-bit words, per value
 * otherwise; strings byte for byte; nulls kept.
 */
import * as A from 'apache-arrow';
import type { DuckBindings } from '../../interop/sql/duckdb.js';

/** How a DuckDB column's values are read: element width and kind. */
export type Src =
  | 'i8'
  | 'i16'
  | 'i32'
  | 'i64'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'f32'
  | 'f64'
  | 'bool'
  | 'ts_us'
  | 'ts_ms'
  | 'ts_s'
  | 'date'
  | 'str';
/** What a column's Arrow buffer holds. */
export type Dst = 'int32' | 'int64' | 'float32' | 'float64' | 'bool' | 'ts_ms' | 'ts_us' | 'str';

const WIDTH: Record<Src, number> = {
  i8: 1, i16: 2, i32: 4, i64: 8, u8: 1, u16: 2, u32: 4, f32: 4, f64: 8, bool: 1,
  ts_us: 8, ts_ms: 8, ts_s: 8, date: 4, str: 16,
}; // prettier-ignore

export interface Column {
  readonly name: string;
  readonly src: Src;
  readonly dst: Dst;
  readonly type: A.DataType;
}

/** One batch's buffers of one column, filled chunk by chunk. */
export class Builder {
  values: Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array;
  offsets: Int32Array | undefined;
  readonly valid: Uint8Array;
  nulls = 0;
  bytes = 0;

  private readonly convert: (x: number | bigint) => number | bigint;

  constructor(
    readonly col: Column,
    capacity: number,
  ) {
    this.convert = converter(col.src, col.dst);
    const n = capacity;
    const d = col.dst;
    this.valid = new Uint8Array((n + 7) >> 3).fill(0xff);
    this.offsets = d === 'str' ? new Int32Array(n + 1) : undefined;
    this.values =
      d === 'int32' ? new Int32Array(n)
      : d === 'int64' || d === 'ts_ms' || d === 'ts_us' ? new BigInt64Array(n)
      : d === 'float32' ? new Float32Array(n)
      : d === 'float64' ? new Float64Array(n)
      : d === 'bool' ? new Uint8Array((n + 7) >> 3)
      : new Uint8Array(Math.max(64, n * 8)); // prettier-ignore
  }

  /** Copies rows [from, to) of a DuckDB vector to rows at..; strings by their bytes. */
  put(duck: DuckBindings, vector: unknown, rows: number, from: number, to: number, at: number): void {
    const v = vector as Parameters<DuckBindings['vector_get_data']>[0];
    const data = duck.vector_get_data(v, rows * WIDTH[this.col.src]);
    const validity = duck.vector_get_validity(v, Math.ceil(rows / 64) * 8);
    if (this.#putColumn(data, from, to, at)) {
      // the values were copied whole: clear the null rows' slots and bits
      if (validity)
        for (let i = from, j = at; i < to; i++, j++)
          if (!((validity[i >> 3] >> (i & 7)) & 1)) {
            this.valid[j >> 3] &= ~(1 << (j & 7));
            this.nulls++;
            (this.values as unknown as (number | bigint)[])[j] = this.values instanceof BigInt64Array ? 0n : 0;
          }
      return;
    }
    const get = reader(this.col.src, data);
    const convert = this.convert;
    const { dst } = this.col;
    const out = this.values;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = from, j = at; i < to; i++, j++) {
      if (validity && !((validity[i >> 3] >> (i & 7)) & 1)) {
        this.valid[j >> 3] &= ~(1 << (j & 7));
        this.nulls++;
        if (this.offsets) this.offsets[j + 1] = this.bytes;
        continue;
      }
      if (dst === 'str') {
        const len = dv.getUint32(i * 16, true);
        const bytes =
          len <= 12
            ? data.subarray(i * 16 + 4, i * 16 + 4 + len)
            : duck.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + i * 16 + 8, len);
        this.grow(len);
        (this.values as Uint8Array).set(bytes, this.bytes);
        this.bytes += len;
        this.offsets![j + 1] = this.bytes;
      } else if (dst === 'bool') {
        if (data[i]) (out as Uint8Array)[j >> 3] |= 1 << (j & 7);
      } else (out as unknown as (number | bigint)[])[j] = convert(get(i));
    }
  }

  /**
   * Copies rows [from, to) as a whole column when the element needs no per-value conversion (same
   * width and kind) or only the microseconds-to-milliseconds one, done on 32-bit words; false when
   * this pair has no such copy (the per-value loop runs).
   */
  #putColumn(data: Uint8Array, from: number, to: number, at: number): boolean {
    const { src, dst } = this.col;
    const { buffer, byteOffset } = data;
    const n = to - from;
    const same =
      (src === 'i32' && dst === 'int32') ||
      (src === 'f64' && dst === 'float64') ||
      (src === 'f32' && dst === 'float32') ||
      ((src === 'i64' || src === 'ts_us') && (dst === 'int64' || dst === 'ts_us')) ||
      (src === 'ts_ms' && dst === 'ts_ms');
    if (same) {
      const width = WIDTH[src];
      const bytes = new Uint8Array(buffer, byteOffset + from * width, n * width);
      new Uint8Array(this.values.buffer, this.values.byteOffset + at * width, n * width).set(bytes);
      return true;
    }
    if (src !== 'ts_us' || dst !== 'ts_ms') return false;
    // µs → ms truncated toward zero, exact while |µs| < 2^52 (later dates go through BigInt)
    const inW = new Int32Array(buffer, byteOffset + from * 8, n * 2);
    const outW = new Int32Array(this.values.buffer, this.values.byteOffset + at * 8, n * 2);
    for (let k = 0; k < n; k++) {
      const hi = inW[2 * k + 1];
      if (hi >= 0x100000 || hi < -0x100000) {
        const big = new BigInt64Array(buffer, byteOffset + from * 8, n);
        (this.values as BigInt64Array)[at + k] = big[k] / 1000n;
        continue;
      }
      const us = hi * 4294967296 + (inW[2 * k] >>> 0);
      const ms = Math.trunc(us / 1000);
      const mhi = Math.floor(ms / 4294967296);
      outW[2 * k] = (ms - mhi * 4294967296) | 0;
      outW[2 * k + 1] = mhi | 0;
    }
    return true;
  }

  private grow(len: number): void {
    if (this.bytes + len <= this.values.byteLength) return;
    const next = new Uint8Array(Math.max(this.bytes + len, this.values.byteLength * 2));
    next.set((this.values as Uint8Array).subarray(0, this.bytes));
    this.values = next;
  }

  finish(length: number): A.Vector {
    const nullBitmap = this.nulls ? this.valid.slice(0, (length + 7) >> 3) : undefined;
    const values =
      this.col.dst === 'str' ? (this.values as Uint8Array).slice(0, this.bytes)
      : this.col.dst === 'bool' ? this.values.slice(0, (length + 7) >> 3)
      : length === this.values.length ? this.values // a full batch: its builder is not used again
      : this.values.slice(0, length); // prettier-ignore
    const valueOffsets = this.offsets?.slice(0, length + 1);
    const data = A.makeData({
      type: this.col.type,
      length,
      nullCount: this.nulls,
      nullBitmap,
      data: values,
      valueOffsets,
    } as never);
    return A.makeVector(data as A.Data);
  }
}

/** Reads element i of a DuckDB vector's data as the column's Arrow element (timestamps converted). */
function reader(src: Src, data: Uint8Array): (i: number) => number | bigint {
  const { buffer, byteOffset } = data;
  const n = data.byteLength / WIDTH[src];
  switch (src) {
    case 'i8': return ((a) => (i: number) => a[i])(new Int8Array(buffer, byteOffset, n));
    case 'u8': return ((a) => (i: number) => a[i])(new Uint8Array(buffer, byteOffset, n));
    case 'i16': return ((a) => (i: number) => a[i])(new Int16Array(buffer, byteOffset, n));
    case 'u16': return ((a) => (i: number) => a[i])(new Uint16Array(buffer, byteOffset, n));
    case 'i32': case 'date': return ((a) => (i: number) => a[i])(new Int32Array(buffer, byteOffset, n));
    case 'u32': return ((a) => (i: number) => a[i])(new Uint32Array(buffer, byteOffset, n));
    case 'f32': return ((a) => (i: number) => a[i])(new Float32Array(buffer, byteOffset, n));
    case 'f64': return ((a) => (i: number) => a[i])(new Float64Array(buffer, byteOffset, n));
    case 'bool': case 'str': return (i: number) => data[i];
    default: return ((a) => (i: number) => a[i])(new BigInt64Array(buffer, byteOffset, n));
  } // prettier-ignore
}

/** An element (from `reader`) as the destination's value: BigInt for 64-bit columns, ms or µs for timestamps. */
function converter(src: Src, dst: Dst): (x: number | bigint) => number | bigint {
  const big = dst === 'int64' || dst === 'ts_ms' || dst === 'ts_us';
  const ms = dst === 'ts_ms';
  switch (src) {
    case 'ts_us': return ms ? (x) => (x as bigint) / 1000n : (x) => x;
    case 'ts_ms': return ms ? (x) => x : (x) => (x as bigint) * 1000n;
    case 'ts_s': return ms ? (x) => (x as bigint) * 1000n : (x) => (x as bigint) * 1_000_000n;
    case 'date': return ms ? (x) => BigInt(x) * 86_400_000n : (x) => BigInt(x) * 86_400_000_000n;
    case 'i64': return big ? (x) => x : (x) => Number(x);
    default: return big ? (x) => BigInt(x) : (x) => x;
  } // prettier-ignore
}
