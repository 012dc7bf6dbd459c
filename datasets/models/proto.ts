/**
 * A minimal protobuf writer and the handful of ONNX messages (onnx.proto3, IR version 8) the model
 * builders need. Field numbers follow https://github.com/onnx/onnx/blob/main/onnx/onnx.proto.
 * Only encoding: nothing here parses models.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

const utf8 = new TextEncoder();

/** Appends protobuf fields; `finish()` concatenates them. Nested messages are encoded bottom-up. */
export class PbWriter {
  private readonly parts: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.parts.push(bytes);
    this.length += bytes.length;
    this.scratch = [];
  }

  private pushVarint(value: number | bigint): void {
    // int64 semantics: negative numbers are written as 10-byte two's complement.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.pushVarint((field << 3) | wire);
  }

  /** int32/int64/enum/bool field (wire type 0). */
  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.pushVarint(value);
    return this;
  }

  /** float field (wire type 5). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    for (const x of b) this.scratch.push(x);
    return this;
  }

  /** bytes / embedded message field (wire type 2). */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.pushVarint(data.length);
    this.flushScratch();
    if (data.length > 0) {
      this.parts.push(data);
      this.length += data.length;
    }
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Packed repeated int64 (one length-delimited field). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new PbWriter();
    for (const v of values) inner.pushVarint(v);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated float. */
  packedFloats(field: number, values: readonly number[]): this {
    const f = Float32Array.from(values);
    return this.bytes(field, leBytes(f));
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Little-endian bytes of a typed array (copies only on big-endian hosts). */
export function leBytes(a: Float32Array | BigInt64Array | Int32Array): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return view;
  const out = new Uint8Array(view.length);
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += w) for (let j = 0; j < w; j++) out[i + j] = view[i + w - 1 - j];
  return out;
}

// ---- ONNX messages -------------------------------------------------------------------------

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** A dimension: a number is fixed, a string is symbolic (dim_param), null is unknown. */
export type Dim = number | string | null;

export type AttrValue =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly s: string };

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export interface ValueInfoSpec {
  readonly name: string;
  readonly dims: readonly Dim[];
  /** TensorProto.DataType; default ONNX_FLOAT. */
  readonly elemType?: number;
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly TensorSpec[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
}

export interface ModelSpec {
  readonly graph: GraphSpec;
  /** Default 8 (ONNX 1.10+, accepted by every ONNX Runtime 1.1x/1.2x/1.3x). */
  readonly irVersion?: number;
  /** Default 13. */
  readonly opset?: number;
  readonly producer?: string;
}

function encodeAttr(name: string, v: AttrValue): Uint8Array {
  const w = new PbWriter().string(1, name);
  // AttributeProto.AttributeType: FLOAT=1 INT=2 STRING=3 FLOATS=6 INTS=7
  if ('f' in v) w.float(2, v.f).int(20, 1);
  else if ('i' in v) w.int(3, v.i).int(20, 2);
  else if ('s' in v) w.string(4, v.s).int(20, 3);
  else if ('floats' in v) {
    for (const x of v.floats) w.float(7, x);
    w.int(20, 6);
  } else {
    w.packedInts(8, v.ints).int(20, 7);
  }
  return w.finish();
}

function encodeNode(n: NodeSpec): Uint8Array {
  const w = new PbWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.bytes(5, encodeAttr(k, v));
  return w.finish();
}

export function encodeTensor(t: TensorSpec): Uint8Array {
  const w = new PbWriter().packedInts(1, t.dims);
  w.int(2, t.data instanceof Float32Array ? ONNX_FLOAT : ONNX_INT64);
  w.string(8, t.name);
  w.bytes(9, leBytes(t.data)); // raw_data, little-endian
  return w.finish();
}

function encodeValueInfo(v: ValueInfoSpec): Uint8Array {
  const shape = new PbWriter();
  for (const d of v.dims) {
    const dim = new PbWriter();
    if (typeof d === 'number') dim.int(1, d);
    else if (typeof d === 'string') dim.string(2, d);
    shape.bytes(1, dim.finish());
  }
  const tensorType = new PbWriter()
    .int(1, v.elemType ?? ONNX_FLOAT)
    .bytes(2, shape.finish())
    .finish();
  const type = new PbWriter().bytes(1, tensorType).finish();
  return new PbWriter().string(1, v.name).bytes(2, type).finish();
}

function encodeGraph(g: GraphSpec): Uint8Array {
  const w = new PbWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  for (const i of g.inputs) w.bytes(11, encodeValueInfo(i));
  for (const o of g.outputs) w.bytes(12, encodeValueInfo(o));
  return w.finish();
}

/** Serialized onnx.ModelProto. */
export function encodeModel(m: ModelSpec): Uint8Array {
  const opset = new PbWriter()
    .string(1, '')
    .int(2, m.opset ?? 13)
    .finish();
  return new PbWriter()
    .int(1, m.irVersion ?? 8)
    .string(2, m.producer ?? 'strata-onnx-builder')
    .string(3, '0.1.0')
    .int(5, 1)
    .bytes(7, encodeGraph(m.graph))
    .bytes(8, opset)
    .finish();
}
