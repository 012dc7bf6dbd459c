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
  const step = (acc: number, off: number): number[] =>
    l2
      ? [
          0x20,
          0,
          ...V128_LOAD(off),
          0x20,
          1,
          ...V128_LOAD(off),
          ...F32X4_SUB,
          0x22,
          5,
          0x20,
          5,
          ...F32X4_MUL,
          0x20,
          acc,
          ...F32X4_ADD,
          0x21,
          acc,
        ]
      : [0x20, acc, 0x20, 0, ...V128_LOAD(off), 0x20, 1, ...V128_LOAD(off), ...F32X4_MUL, ...F32X4_ADD, 0x21, acc];
  const code = [
    0x02,
    0x03,
    0x7b,
    0x01,
    0x7f, // locals: 3 × v128, 1 × i32
    0x20,
    0,
    0x20,
    2,
    0x41,
    2,
    0x74,
    0x6a,
    0x21,
    6, // end = a + (n << 2)
    0x02,
    0x40,
    0x03,
    0x40, // block, loop
    0x20,
    0,
    0x20,
    6,
    0x4f,
    0x0d,
    1, // if a >= end: break
    ...step(3, 0),
    ...step(4, 16),
    0x20,
    0,
    0x41,
    32,
    0x6a,
    0x21,
    0, // a += 32
    0x20,
    1,
    0x41,
    32,
    0x6a,
    0x21,
    1, // b += 32
    0x0c,
    0,
    0x0b,
    0x0b, // br loop; end loop; end block
    0x20,
    3,
    0x20,
    4,
    ...F32X4_ADD,
    0x21,
    3,
    0x20,
    3,
    ...LANE(0),
    0x20,
    3,
    ...LANE(1),
    F32_ADD,
    0x20,
    3,
    ...LANE(2),
    F32_ADD,
    0x20,
    3,
    ...LANE(3),
    F32_ADD,
    0x0b,
  ];
  return [...leb(code.length), ...code];
}

// local.get / local.set / i32 helpers for the list kernels
const GET = (i: number) => [0x20, i];
const SET = (i: number) => [0x21, i];
const I32 = (v: number) => [0x41, v]; // small non-negative constants only (< 64)
const I32_LOAD = [0x28, 0x02, 0x00];
const F32_STORE = [0x38, 0x02, 0x00];
/** Pushes base + mem32[list + 4 * idx] * rowBytes, stores it in local `off`. */
const ROW_OFFSET = (list: number, idx: number, rowBytes: number, base: number, off: number) => [
  ...GET(list),
  ...GET(idx),
  ...I32(2),
  0x74,
  0x6a,
  ...I32_LOAD,
  ...GET(rowBytes),
  0x6c,
  ...GET(base),
  0x6a,
  ...SET(off),
];
/** Pushes l2sq(a, off, stride) when metric == 1, else dot(a, off, stride) (as f32). */
const DIST = (a: number, off: number, stride: number, metric: number) => [
  ...GET(metric),
  ...I32(1),
  0x46,
  0x04,
  0x7d,
  ...GET(a),
  ...GET(off),
  ...GET(stride),
  0x10,
  1,
  0x05,
  ...GET(a),
  ...GET(off),
  ...GET(stride),
  0x10,
  0,
  0x0b,
];
const body = (locals: number[], code: number[]): number[] => {
  const full = [...locals, ...code, 0x0b];
  return [...leb(full.length), ...full];
};

/**
 * distMany(q, ids, count, out, base, rowBytes, stride, metric): out[i] = raw distance (l2sq when
 * metric == 1, else dot) between the vector at byte q and row ids[i] (rows at base + id * rowBytes).
 */
function distMany(): number[] {
  // params 0 q, 1 ids, 2 count, 3 out, 4 base, 5 rowBytes, 6 stride, 7 metric; locals 8 i, 9 off
  return body(
    [0x01, 0x02, 0x7f],
    [
      0x02,
      0x40,
      0x03,
      0x40,
      ...GET(8),
      ...GET(2),
      0x4f,
      0x0d,
      1,
      ...ROW_OFFSET(1, 8, 5, 4, 9),
      ...GET(3),
      ...GET(8),
      ...I32(2),
      0x74,
      0x6a, // &out[i]
      ...DIST(0, 9, 6, 7),
      ...F32_STORE,
      ...GET(8),
      ...I32(1),
      0x6a,
      ...SET(8),
      0x0c,
      0,
      0x0b,
      0x0b,
    ],
  );
}

/**
 * anyCloser(c, kept, n, thr, base, rowBytes, stride, metric) -> i32: 1 if some row kept[j] has raw
 * distance to the vector at byte c below thr (l2, metric == 1) or raw dot above thr (otherwise).
 */
function anyCloser(): number[] {
  // params 0 c, 1 kept, 2 n, 3 thr (f32), 4 base, 5 rowBytes, 6 stride, 7 metric; locals 8 j, 9 off
  return body(
    [0x01, 0x02, 0x7f],
    [
      0x02,
      0x40,
      0x03,
      0x40,
      ...GET(8),
      ...GET(2),
      0x4f,
      0x0d,
      1,
      ...ROW_OFFSET(1, 8, 5, 4, 9),
      ...GET(7),
      ...I32(1),
      0x46,
      0x04,
      0x7f, // if (result i32)
      ...GET(0),
      ...GET(9),
      ...GET(6),
      0x10,
      1,
      ...GET(3),
      0x5d, // f32.lt
      0x05,
      ...GET(0),
      ...GET(9),
      ...GET(6),
      0x10,
      0,
      ...GET(3),
      0x5e, // f32.gt
      0x0b,
      0x04,
      0x40,
      ...I32(1),
      0x0f,
      0x0b, // if closer: return 1
      ...GET(8),
      ...I32(1),
      0x6a,
      ...SET(8),
      0x0c,
      0,
      0x0b,
      0x0b,
      ...I32(0),
    ],
  );
}

/**
 * The module. With `sharedMemory`, the memory is imported (env.mem, shared, up to 4 GiB) so that
 * several threads can run the kernels over the same rows; otherwise it owns a growable memory.
 */
function moduleBytes(sharedMemory: boolean): Uint8Array {
  const i32 = 0x7f;
  const f32 = 0x7d;
  const memory = sharedMemory
    ? section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x03, ...leb(1), ...leb(65536)]) // import shared memory
    : section(5, [1, 0x00, 1]); // own memory, min 1 page
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [
      3,
      0x60,
      3,
      i32,
      i32,
      i32,
      1,
      f32, // 0: (a, b, n) -> f32
      0x60,
      8,
      i32,
      i32,
      i32,
      i32,
      i32,
      i32,
      i32,
      i32,
      0, // 1: distMany
      0x60,
      8,
      i32,
      i32,
      i32,
      f32,
      i32,
      i32,
      i32,
      i32,
      1,
      i32, // 2: anyCloser
    ]),
    ...(sharedMemory ? memory : []),
    ...section(3, [4, 0, 0, 1, 2]),
    ...(sharedMemory ? [] : memory),
    ...section(7, [
      5,
      ...str('mem'),
      0x02,
      0,
      ...str('dot'),
      0x00,
      0,
      ...str('l2sq'),
      0x00,
      1,
      ...str('distMany'),
      0x00,
      2,
      ...str('anyCloser'),
      0x00,
      3,
    ]),
    ...section(10, [4, ...kernel(false), ...kernel(true), ...distMany(), ...anyCloser()]),
  ]);
}

/** The parts of the WebAssembly API used here (tsconfig has no DOM lib). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;
let compiledShared: object | undefined;
const PAGE = 65536;

/** A shared memory of at least `bytes`, growable to `maxBytes` (both rounded up to 64 KiB pages). */
export function sharedMemory(bytes: number, maxBytes: number): WasmMemory {
  const initial = Math.ceil(bytes / PAGE);
  const maximum = Math.min(65536, Math.max(initial, Math.ceil(maxBytes / PAGE)));
  return new wasm.Memory({ initial, maximum, shared: true });
}

export interface SimdKernels {
  readonly memory: WasmMemory;
  readonly dot: (a: number, b: number, n: number) => number;
  readonly l2sq: (a: number, b: number, n: number) => number;
  readonly distMany: (
    q: number,
    ids: number,
    count: number,
    out: number,
    base: number,
    rowBytes: number,
    stride: number,
    metric: number,
  ) => void;
  readonly anyCloser: (
    c: number,
    kept: number,
    n: number,
    thr: number,
    base: number,
    rowBytes: number,
    stride: number,
    metric: number,
  ) => number;
}

/** A fresh instance of the distance kernels: over `memory` (from sharedMemory), or with its own. */
export function simdKernels(memory?: WasmMemory): SimdKernels {
  let inst: { readonly exports: Record<string, unknown> };
  if (memory) {
    compiledShared ??= new wasm.Module(moduleBytes(true));
    inst = new wasm.Instance(compiledShared, { env: { mem: memory } });
  } else {
    compiled ??= new wasm.Module(moduleBytes(false));
    inst = new wasm.Instance(compiled, {});
  }
  const e = inst.exports as unknown as SimdKernels & { mem: WasmMemory };
  return { memory: e.mem, dot: e.dot, l2sq: e.l2sq, distMany: e.distMany, anyCloser: e.anyCloser };
}

let scratch: SimdKernels | undefined;

/**
 * A module-wide kernel instance whose memory holds at least `bytes` (grown on demand), for
 * synchronous scans that copy rows in block by block. Callers must not hold on to it across awaits.
 */
export function scanScratch(bytes: number): { readonly kernels: SimdKernels; readonly f32: Float32Array } {
  scratch ??= simdKernels();
  const have = scratch.memory.buffer.byteLength;
  if (bytes > have) scratch.memory.grow(Math.ceil((bytes - have) / PAGE));
  return { kernels: scratch, f32: new Float32Array(scratch.memory.buffer) };
}
