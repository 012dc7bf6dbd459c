/**
 * Hand-assembled WebAssembly SIMD kernels for float32 vector distances (no toolchain, no download):
 *   dot(a, b, n) -> f32   and   l2sq(a, b, n) -> f32
 * a, b are byte offsets into the module's exported memory (16-byte aligned), n is a multiple of 8
 * floats. Two f32x4 accumulators, 8 floats per iteration.
 */

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const str = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

const V128_LOAD = (offset: number) => [0xfd, 0x00, 0x04, offset];
const F32X4_ADD = [0xfd, 0xe4, 0x01];
const F32X4_SUB = [0xfd, 0xe5, 0x01];
const F32X4_MUL = [0xfd, 0xe6, 0x01];
const LANE = (i: number) => [0xfd, 0x1f, i];
const F32_ADD = 0x92;

/** Body of one kernel; `l2` squares differences instead of multiplying pairs. */
function kernel(l2: boolean): number[] {
  // params: 0 a, 1 b, 2 n; locals: 3, 4 accumulators, 5 temp (v128); 6 end (i32)
  const step = (acc: number, off: number): number[] => l2
    ? [0x20, 0, ...V128_LOAD(off), 0x20, 1, ...V128_LOAD(off), ...F32X4_SUB, 0x22, 5, 0x20, 5, ...F32X4_MUL,
      0x20, acc, ...F32X4_ADD, 0x21, acc]
    : [0x20, acc, 0x20, 0, ...V128_LOAD(off), 0x20, 1, ...V128_LOAD(off), ...F32X4_MUL, ...F32X4_ADD, 0x21, acc];
  const code = [
    0x02, 0x03, 0x7b, 0x01, 0x7f, // locals: 3 × v128, 1 × i32
    0x20, 0, 0x20, 2, 0x41, 2, 0x74, 0x6a, 0x21, 6, // end = a + (n << 2)
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0, 0x20, 6, 0x4f, 0x0d, 1, // if a >= end: break
    ...step(3, 0), ...step(4, 16),
    0x20, 0, 0x41, 32, 0x6a, 0x21, 0, // a += 32
    0x20, 1, 0x41, 32, 0x6a, 0x21, 1, // b += 32
    0x0c, 0, 0x0b, 0x0b, // br loop; end loop; end block
    0x20, 3, 0x20, 4, ...F32X4_ADD, 0x21, 3,
    0x20, 3, ...LANE(0), 0x20, 3, ...LANE(1), F32_ADD, 0x20, 3, ...LANE(2), F32_ADD, 0x20, 3, ...LANE(3), F32_ADD,
    0x0b,
  ];
  return [...leb(code.length), ...code];
}

function moduleBytes(): Uint8Array {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7d]), // type: (i32 i32 i32) -> f32
    ...section(3, [2, 0, 0]), // two functions of type 0
    ...section(5, [1, 0x00, 1]), // one memory, min 1 page
    ...section(7, [3, ...str('mem'), 0x02, 0, ...str('dot'), 0x00, 0, ...str('l2sq'), 0x00, 1]),
    ...section(10, [2, ...kernel(false), ...kernel(true)]),
  ]);
}

/** The parts of the WebAssembly API used here (tsconfig has no DOM lib). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

export interface SimdKernels {
  readonly memory: WasmMemory;
  readonly dot: (a: number, b: number, n: number) => number;
  readonly l2sq: (a: number, b: number, n: number) => number;
}

/** A fresh instance (own memory) of the distance kernels. */
export function simdKernels(): SimdKernels {
  compiled ??= new wasm.Module(moduleBytes());
  const inst = new wasm.Instance(compiled, {});
  const e = inst.exports as unknown as SimdKernels & { mem: WasmMemory };
  return { memory: e.mem, dot: e.dot, l2sq: e.l2sq };
}

/** 0 cosine (1 - dot of normalized rows), 1 squared L2, 2 negative dot. */
export type DistanceCode = 0 | 1 | 2;

/**
 * Rows of `dim` floats in WebAssembly memory, padded to a multiple of 8, plus one query slot.
 * Cosine rows are stored normalized. Distances: 1 - cos, squared L2, or -dot (lower is closer).
 */
export class SimdVectorStore {
  readonly stride: number;
  private readonly k: SimdKernels;
  private f32: Float32Array;
  private readonly rowBytes: number;
  /** Byte offset of row 0 (the query slot sits at 0). */
  private readonly base: number;
  capacity = 0;

  constructor(readonly dim: number, readonly code: DistanceCode, capacity: number) {
    this.stride = Math.ceil(dim / 8) * 8;
    this.rowBytes = this.stride * 4;
    this.base = this.rowBytes;
    this.k = simdKernels();
    this.f32 = new Float32Array(this.k.memory.buffer);
    this.reserve(capacity);
  }

  /** Byte offset of the query slot, for `dist`. */
  get queryOffset(): number {
    return 0;
  }

  rowOffset(row: number): number {
    return this.base + row * this.rowBytes;
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const need = this.base + rows * this.rowBytes;
    const have = this.k.memory.buffer.byteLength;
    if (need > have) this.k.memory.grow(Math.ceil((need - have) / 65536));
    this.f32 = new Float32Array(this.k.memory.buffer);
    this.capacity = rows;
  }

  private write(at: number, v: ArrayLike<number>, offset: number): void {
    const f = this.f32;
    const dim = this.dim;
    let nn = 0;
    for (let j = 0; j < dim; j++) {
      const x = v[offset + j];
      f[at + j] = x;
      nn += x * x;
    }
    if (this.code === 0) {
      const inv = nn > 0 ? 1 / Math.sqrt(nn) : 0;
      for (let j = 0; j < dim; j++) f[at + j] *= inv;
    }
  }

  /** Stores v[offset .. offset+dim) as `row` (normalized for cosine). */
  set(row: number, v: ArrayLike<number>, offset = 0): void {
    this.write(row * this.stride + this.stride, v, offset);
  }

  setQuery(q: ArrayLike<number>): void {
    this.write(0, q, 0);
  }

  /** Distance between the vector at byte offset `a` (a row or the query slot) and `row`. */
  dist(a: number, row: number): number {
    const b = this.base + row * this.rowBytes;
    if (this.code === 1) return this.k.l2sq(a, b, this.stride);
    const d = this.k.dot(a, b, this.stride);
    return this.code === 0 ? 1 - d : -d;
  }

  /** A view of the stored row (valid until the next reserve). */
  row(row: number): Float32Array {
    const at = row * this.stride + this.stride;
    return this.f32.subarray(at, at + this.dim);
  }

  /** Rows 0..count-1 copied out unpadded. */
  export(count: number): Float32Array {
    const out = new Float32Array(count * this.dim);
    for (let i = 0; i < count; i++) out.set(this.row(i), i * this.dim);
    return out;
  }
}
