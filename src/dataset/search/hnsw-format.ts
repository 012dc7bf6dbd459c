import { StrataError } from '../../errors.js';
import { METRICS, type Metric } from './metrics.js';

/** Everything an HnswIndex is made of (storage may hold more capacity than count). */
export interface HnswState {
  metric: Metric;
  dim: number;
  M: number;
  /** Links per node on layer 0 (2M). */
  M0: number;
  efConstruction: number;
  efSearch: number;
  seed: number;
  count: number;
  capacity: number;
  maxLevel: number;
  entry: number;
  rngState: number;
  levels: Uint8Array;
  /** capacity × (M0 + 1): [count, ids...] per node. */
  links0: Int32Array;
  /** Per node with level > 0: level × (M + 1) slots for layers 1..level. */
  upper: (Int32Array | undefined)[];
}

const MAGIC = 0x574e4853; // 'SHNW'
const VERSION = 1;
const HEADER_WORDS = 16;

/*
 * Layout (little-endian, 4-byte aligned sections):
 *   u32[16] header: magic, version, metric, dim, count, M, M0, efConstruction, efSearch, maxLevel,
 *                   entry (i32), rngState, hasVectors, upperWords, seed, reserved
 *   u8[count] levels, zero-padded to 4 bytes
 *   i32[count × (M0+1)] layer-0 links
 *   i32[upperWords] upper links, node after node (level × (M+1) each)
 *   f32[count × dim] vectors, when hasVectors
 */
/** `vectors`: count × dim rows to embed in the file (normalized for cosine), or undefined. */
export function writeHnsw(s: HnswState, vectors: Float32Array | undefined): Uint8Array {
  const includeVectors = vectors !== undefined;
  let upperWords = 0;
  for (let i = 0; i < s.count; i++) upperWords += s.levels[i] * (s.M + 1);
  const levelBytes = (s.count + 3) & ~3;
  const l0Words = s.count * (s.M0 + 1);
  const vecWords = includeVectors ? s.count * s.dim : 0;
  const total = HEADER_WORDS * 4 + levelBytes + 4 * (l0Words + upperWords + vecWords);
  const out = new Uint8Array(total);
  const head = new DataView(out.buffer);
  const words = [
    MAGIC,
    VERSION,
    METRICS.indexOf(s.metric),
    s.dim,
    s.count,
    s.M,
    s.M0,
    s.efConstruction,
    s.efSearch,
    s.maxLevel,
    s.entry,
    s.rngState,
    includeVectors ? 1 : 0,
    upperWords,
    s.seed,
    0,
  ];
  words.forEach((w, i) => head.setUint32(i * 4, w >>> 0, true));
  let at = HEADER_WORDS * 4;
  out.set(s.levels.subarray(0, s.count), at);
  at += levelBytes;
  const i32 = new Int32Array(out.buffer, at, l0Words + upperWords);
  i32.set(s.links0.subarray(0, l0Words));
  let u = l0Words;
  for (let i = 0; i < s.count; i++) {
    const arr = s.upper[i];
    if (arr) {
      i32.set(arr, u);
      u += arr.length;
    }
  }
  at += 4 * (l0Words + upperWords);
  if (vectors) new Float32Array(out.buffer, at, vecWords).set(vectors.subarray(0, vecWords));
  return out;
}

function corrupt(message: string): StrataError {
  return new StrataError('CORRUPT', `HNSW index: ${message}`, { hint: 'rebuild the index with createIndex' });
}

/** Parses `writeHnsw` output; `vectors` are the stored rows, or the caller's when the file has none. */
export function readHnsw(input: Uint8Array, vectors?: Float32Array): { state: HnswState; vectors: Float32Array } {
  // typed-array views need 4-byte alignment: copy when the bytes are not aligned
  const bytes = input.byteOffset % 4 === 0 ? input : input.slice();
  if (bytes.length < HEADER_WORDS * 4) throw corrupt(`${bytes.length} bytes is shorter than the header`);
  const head = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = (i: number) => head.getUint32(i * 4, true);
  if (w(0) !== MAGIC) throw corrupt('bad magic (not an HNSW index)');
  if (w(1) !== VERSION) throw corrupt(`unsupported format version ${w(1)}`);
  const metric = METRICS[w(2)];
  const [dim, count, M, M0, efConstruction, efSearch] = [w(3), w(4), w(5), w(6), w(7), w(8)];
  const maxLevel = head.getInt32(36, true);
  const entry = head.getInt32(40, true);
  const [rngState, hasVectors, upperWords, seed] = [w(11), w(12), w(13), w(14)];
  if (metric === undefined || dim < 1 || M < 2 || M0 !== 2 * M) throw corrupt('bad header');
  const levelBytes = (count + 3) & ~3;
  const l0Words = count * (M0 + 1);
  const vecWords = hasVectors ? count * dim : 0;
  const expected = HEADER_WORDS * 4 + levelBytes + 4 * (l0Words + upperWords + vecWords);
  if (bytes.length !== expected) throw corrupt(`${bytes.length} bytes, expected ${expected}`);
  if (count > 0 && (entry < 0 || entry >= count)) throw corrupt(`entry point ${entry} out of range`);
  let at = bytes.byteOffset + HEADER_WORDS * 4;
  const levels = bytes.slice(HEADER_WORDS * 4, HEADER_WORDS * 4 + count);
  at += levelBytes;
  const links0 = new Int32Array(bytes.buffer.slice(at, at + 4 * l0Words));
  at += 4 * l0Words;
  const upperAll = new Int32Array(bytes.buffer, at, upperWords);
  at += 4 * upperWords;
  const upper = new Array<Int32Array | undefined>(count);
  let u = 0;
  for (let i = 0; i < count; i++) {
    const len = levels[i] * (M + 1);
    if (levels[i] > maxLevel || u + len > upperWords) throw corrupt(`node ${i} level ${levels[i]} inconsistent`);
    upper[i] = len > 0 ? upperAll.slice(u, u + len) : undefined;
    u += len;
  }
  if (u !== upperWords) throw corrupt('upper-layer section size mismatch');
  const checkList = (arr: Int32Array, stride: number, max: number) => {
    for (let o = 0; o < arr.length; o += stride) {
      const c = arr[o];
      if (c < 0 || c > max) throw corrupt(`link count ${c} out of range`);
      for (let t = 1; t <= c; t++)
        if (arr[o + t] < 0 || arr[o + t] >= count) throw corrupt(`link to ${arr[o + t]} out of range`);
    }
  };
  checkList(links0, M0 + 1, M0);
  for (const arr of upper) if (arr) checkList(arr, M + 1, M);
  let vecs: Float32Array;
  if (hasVectors) {
    vecs = new Float32Array(bytes.buffer.slice(at, at + 4 * vecWords));
  } else {
    if (!vectors || vectors.length !== count * dim) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `HNSW index was saved without vectors: pass the ${count} × ${dim} vectors`,
        {
          field: 'vectors',
          hint: 'deserialize(bytes, { vectors }) with the column the index was built on',
        },
      );
    }
    vecs = vectors;
  }
  const state: HnswState = {
    metric,
    dim,
    M,
    M0,
    efConstruction,
    efSearch,
    seed,
    count,
    capacity: count,
    maxLevel,
    entry,
    rngState,
    levels,
    links0,
    upper,
  };
  return { state, vectors: vecs };
}
