import { simdKernels, type SimdKernels } from './simd.js';

/** 0 cosine (1 - dot of normalized rows), 1 squared L2, 2 negative dot. */
export type DistanceCode = 0 | 1 | 2;

/** Entries in each scratch list (neighbour ids, their distances, kept ids). */
export const SCRATCH_LIST = 512;

/** Where a store lives when several threads share one memory (see SimdVectorStore). */
export interface StoreSharing {
  /** Kernels instantiated over the shared memory (one instance per thread). */
  readonly kernels: SimdKernels;
  /** This thread's scratch slot, 0 <= slot < slots. */
  readonly slot: number;
  readonly slots: number;
}

/**
 * Rows of `dim` floats in WebAssembly memory, padded to a multiple of 8, plus per-thread scratch:
 * a query slot and three lists (`ids`, `out`, `kept`) shared with the list kernels.
 * Cosine rows are stored normalized. Distances: 1 - cos, squared L2, or -dot (lower is closer).
 *
 * Memory: slots × [query: rowBytes][ids: i32 × 512][out: f32 × 512][kept: i32 × 512], then rows.
 */
export class SimdVectorStore {
  readonly stride: number;
  private readonly k: SimdKernels;
  private f32!: Float32Array;
  private readonly rowBytes: number;
  private readonly queryAt: number;
  private readonly idsAt: number;
  private readonly outAt: number;
  private readonly keptAt: number;
  /** Byte offset of row 0. */
  private readonly base: number;
  /** 1 for l2 (raw l2sq), 0 otherwise (raw dot), as the kernels take it. */
  private readonly kmetric: number;
  capacity = 0;
  /** Scratch views (re-created when memory grows): neighbour ids in, raw distances out, kept ids. */
  ids!: Int32Array;
  out!: Float32Array;
  kept!: Int32Array;

  /** Bytes of memory for `rows` rows and `slots` scratch slots. */
  static layoutBytes(dim: number, slots: number, rows: number): number {
    const rowBytes = Math.ceil(dim / 8) * 32;
    return slots * (rowBytes + 12 * SCRATCH_LIST) + rows * rowBytes;
  }

  constructor(
    readonly dim: number,
    readonly code: DistanceCode,
    capacity: number,
    sharing?: StoreSharing,
  ) {
    this.stride = Math.ceil(dim / 8) * 8;
    this.rowBytes = this.stride * 4;
    const slotBytes = this.rowBytes + 12 * SCRATCH_LIST;
    this.queryAt = (sharing?.slot ?? 0) * slotBytes;
    this.idsAt = this.queryAt + this.rowBytes;
    this.outAt = this.idsAt + 4 * SCRATCH_LIST;
    this.keptAt = this.outAt + 4 * SCRATCH_LIST;
    this.base = (sharing?.slots ?? 1) * slotBytes;
    this.kmetric = code === 1 ? 1 : 0;
    this.k = sharing?.kernels ?? simdKernels();
    this.views();
    this.reserve(Math.max(1, capacity));
  }

  private views(): void {
    const buf = this.k.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.ids = new Int32Array(buf, this.idsAt, SCRATCH_LIST);
    this.out = new Float32Array(buf, this.outAt, SCRATCH_LIST);
    this.kept = new Int32Array(buf, this.keptAt, SCRATCH_LIST);
  }

  /** Raw kernel values (l2sq or dot) from the vector at byte `q` to rows ids[0..count) into out. */
  distMany(q: number, count: number): void {
    this.k.distMany(q, this.idsAt, count, this.outAt, this.base, this.rowBytes, this.stride, this.kmetric);
  }

  /** out[i] after distMany as a distance (lower is closer): l2sq, 1 - dot (cosine) or -dot. */
  distAt(i: number): number {
    const raw = this.out[i];
    return this.code === 1 ? raw : this.code === 0 ? 1 - raw : -raw;
  }

  /** True if some row kept[0..n) is closer to `row` than `d` (a distance as returned by dist). */
  anyCloser(row: number, n: number, d: number): boolean {
    const thr = this.code === 1 ? d : this.code === 0 ? 1 - d : -d;
    return (
      this.k.anyCloser(
        this.base + row * this.rowBytes,
        this.keptAt,
        n,
        thr,
        this.base,
        this.rowBytes,
        this.stride,
        this.kmetric,
      ) !== 0
    );
  }

  /** Byte offset of the query slot, for `dist`. */
  get queryOffset(): number {
    return this.queryAt;
  }

  rowOffset(row: number): number {
    return this.base + row * this.rowBytes;
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const need = this.base + rows * this.rowBytes;
    const have = this.k.memory.buffer.byteLength;
    if (need > have) this.k.memory.grow(Math.ceil((need - have) / 65536));
    this.views();
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
    this.write((this.base + row * this.rowBytes) / 4, v, offset);
  }

  setQuery(q: ArrayLike<number>): void {
    this.write(this.queryAt / 4, q, 0);
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
    const at = (this.base + row * this.rowBytes) / 4;
    return this.f32.subarray(at, at + this.dim);
  }

  /** Rows 0..count-1 copied out unpadded. */
  export(count: number): Float32Array {
    const out = new Float32Array(count * this.dim);
    for (let i = 0; i < count; i++) out.set(this.row(i), i * this.dim);
    return out;
  }
}
