/**
 * Compact binary encoding of online feature values. The runtime type survives a round trip:
 * number → float64, bigint → int64, Float32Array → raw little-endian float32 (4 bytes per element),
 * strings → UTF-8, Uint8Array → bytes, Date → Date, anything else JSON-shaped → JSON.
 */
import { StrataError } from '../errors.js';

const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export const TAG = {
  NULL: 0,
  FALSE: 1,
  TRUE: 2,
  F64: 3,
  I64: 4,
  STRING: 5,
  F32_VEC: 6,
  F64_VEC: 7,
  BYTES: 8,
  JSON: 9,
  DATE: 10,
  I32_VEC: 11,
  I64_VEC: 12,
} as const;

function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;
}

/** Byte size of the encoded payload (without the tag byte). */
function payloadOf(value: unknown): { tag: number; bytes?: Uint8Array; f64?: number; i64?: bigint } {
  if (value === null || value === undefined) return { tag: TAG.NULL };
  switch (typeof value) {
    case 'boolean':
      return { tag: value ? TAG.TRUE : TAG.FALSE };
    case 'number':
      return { tag: TAG.F64, f64: value };
    case 'bigint':
      return { tag: TAG.I64, i64: value };
    case 'string':
      return { tag: TAG.STRING, bytes: Buffer.from(value, 'utf8') };
    default:
  }
  if (value instanceof Float32Array) return { tag: TAG.F32_VEC, bytes: typedBytes(value) };
  if (value instanceof Float64Array) return { tag: TAG.F64_VEC, bytes: typedBytes(value) };
  if (value instanceof Int32Array) return { tag: TAG.I32_VEC, bytes: typedBytes(value) };
  if (value instanceof BigInt64Array) return { tag: TAG.I64_VEC, bytes: typedBytes(value) };
  if (value instanceof Uint8Array) return { tag: TAG.BYTES, bytes: value };
  if (value instanceof Date) return { tag: TAG.DATE, f64: value.getTime() };
  if (typeof value === 'object') {
    return { tag: TAG.JSON, bytes: Buffer.from(JSON.stringify(value, jsonReplacer), 'utf8') };
  }
  throw new StrataError('INVALID_ARGUMENT', `cannot store a ${typeof value} as an online feature value`, {
    hint: 'use numbers, bigints, strings, booleans, typed arrays, Uint8Array, Date or JSON-shaped values',
  });
}

function typedBytes(a: ArrayBufferView & { BYTES_PER_ELEMENT: number; length: number }): Uint8Array {
  if (!LE) {
    const out = new Uint8Array(a.byteLength);
    const dv = new DataView(out.buffer);
    const src = a as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < a.length; i++) {
      const v = src[i];
      if (typeof v === 'bigint') dv.setBigInt64(i * 8, v, true);
      else if (a instanceof Float32Array) dv.setFloat32(i * 4, v, true);
      else if (a instanceof Float64Array) dv.setFloat64(i * 8, v, true);
      else dv.setInt32(i * 4, v, true);
    }
    return out;
  }
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function fixedBytes(tag: number): number {
  return tag === TAG.F64 || tag === TAG.I64 || tag === TAG.DATE ? 8 : 0;
}

/** Encodes one value as `[tag][payload]` (a Redis hash field value). */
export function encodeValue(value: unknown): Buffer {
  const p = payloadOf(value);
  const len = p.bytes ? p.bytes.byteLength : fixedBytes(p.tag);
  const out = Buffer.allocUnsafe(1 + len);
  out[0] = p.tag;
  writePayload(out, 1, p);
  return out;
}

function writePayload(out: Buffer, at: number, p: ReturnType<typeof payloadOf>): void {
  if (p.bytes) out.set(p.bytes, at);
  else if (p.f64 !== undefined) out.writeDoubleLE(p.f64, at);
  else if (p.i64 !== undefined) out.writeBigInt64LE(BigInt.asIntN(64, p.i64), at);
}

/** Decodes `buf[start, end)` whose first byte is the tag. */
export function decodeValue(buf: Uint8Array, start = 0, end = buf.byteLength): unknown {
  const tag = buf[start];
  const from = start + 1;
  const len = end - from;
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (tag) {
    case TAG.NULL:
      return null;
    case TAG.FALSE:
      return false;
    case TAG.TRUE:
      return true;
    case TAG.F64:
      return b.readDoubleLE(from);
    case TAG.I64:
      return b.readBigInt64LE(from);
    case TAG.DATE:
      return new Date(b.readDoubleLE(from));
    case TAG.STRING:
      return b.toString('utf8', from, end);
    case TAG.F32_VEC:
      return typedCopy(b, from, len, Float32Array);
    case TAG.F64_VEC:
      return typedCopy(b, from, len, Float64Array);
    case TAG.I32_VEC:
      return typedCopy(b, from, len, Int32Array);
    case TAG.I64_VEC:
      return typedCopy(b, from, len, BigInt64Array);
    case TAG.BYTES:
      return new Uint8Array(b.subarray(from, end));
    case TAG.JSON:
      return JSON.parse(b.toString('utf8', from, end));
    default:
      throw new StrataError('CORRUPT', `unknown online value tag ${tag}`, {
        hint: 'the online store was written by an incompatible version; clear it and materialize again',
      });
  }
}

type TypedCtor<T> = { new (n: number): T; BYTES_PER_ELEMENT: number };

function typedCopy<T extends ArrayBufferView>(b: Buffer, from: number, len: number, Ctor: TypedCtor<T>): T {
  const n = Math.floor(len / Ctor.BYTES_PER_ELEMENT);
  const out = new Ctor(n);
  const u8 = new Uint8Array(out.buffer);
  u8.set(b.subarray(from, from + n * Ctor.BYTES_PER_ELEMENT));
  if (!LE) {
    const dv = new DataView(b.buffer, b.byteOffset + from, len);
    const dst = out as unknown as { [i: number]: number | bigint };
    for (let i = 0; i < n; i++) {
      if (Ctor === (BigInt64Array as unknown)) dst[i] = dv.getBigInt64(i * 8, true);
      else if (Ctor === (Float32Array as unknown)) dst[i] = dv.getFloat32(i * 4, true);
      else if (Ctor === (Float64Array as unknown)) dst[i] = dv.getFloat64(i * 8, true);
      else dst[i] = dv.getInt32(i * 4, true);
    }
  }
  return out;
}

/**
 * Packs a whole values record: `[u16 n] n × ([u16 nameLen][name][u32 valueLen][tag][payload])`.
 * Used by the embedded store, one blob per (view, entity key).
 */
export function encodeRecord(values: Readonly<Record<string, unknown>>): Buffer {
  const names = Object.keys(values);
  const parts: { name: Buffer; p: ReturnType<typeof payloadOf>; len: number }[] = [];
  let size = 2;
  for (const key of names) {
    const name = Buffer.from(key, 'utf8');
    const p = payloadOf(values[key]);
    const len = 1 + (p.bytes ? p.bytes.byteLength : fixedBytes(p.tag));
    parts.push({ name, p, len });
    size += 2 + name.byteLength + 4 + len;
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16LE(parts.length, 0);
  let at = 2;
  for (const { name, p, len } of parts) {
    out.writeUInt16LE(name.byteLength, at);
    at += 2;
    out.set(name, at);
    at += name.byteLength;
    out.writeUInt32LE(len, at);
    at += 4;
    out[at] = p.tag;
    writePayload(out, at + 1, p);
    at += len;
  }
  return out;
}

/** Unpacks a record; with `only`, decodes just those names (the others are skipped unread). */
export function decodeRecord(buf: Buffer, only?: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = buf.readUInt16LE(0);
  let at = 2;
  for (let i = 0; i < n; i++) {
    const nameLen = buf.readUInt16LE(at);
    at += 2;
    const name = buf.toString('utf8', at, at + nameLen);
    at += nameLen;
    const len = buf.readUInt32LE(at);
    at += 4;
    if (!only || only.has(name)) out[name] = decodeValue(buf, at, at + len);
    at += len;
  }
  return out;
}
