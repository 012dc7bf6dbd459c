import { StrataError } from '../errors.js';
import { crc32c } from './checksum.js';
import {
  type ChunkCodec,
  type SampleCompression,
  CHUNK_CODEC_CODES,
  chunkCodecFromCode,
  compress,
  decompress,
  sampleCompressionCode,
  sampleCompressionFromCode,
} from './codec.js';
import { type DType, DTYPE_CODES, dtypeFromCode } from './dtype.js';

/** One sample: its stored bytes and its logical shape (decoded shape for encoded media). */
export interface Sample {
  readonly bytes: Uint8Array;
  readonly shape: readonly number[];
}

/** What `encodeChunk` needs to know about the column. */
export interface ChunkSpec {
  readonly dtype: DType;
  readonly codec: ChunkCodec;
  readonly sampleCompression: SampleCompression;
}

/** Parsed chunk header: everything needed to locate one sample without reading the payload. */
export interface ChunkHeader extends ChunkSpec {
  readonly formatVersion: number;
  readonly count: number;
  readonly ndim: number;
  readonly headerBytes: number;
  readonly payloadBytes: number;
  readonly rawPayloadBytes: number;
  /** (count + 1) byte positions into the uncompressed payload; undefined in the fixed layout. */
  readonly offsets: Uint32Array | undefined;
  /** count × ndim dims; undefined in the fixed layout. */
  readonly shapes: Uint32Array | undefined;
  /** Fixed layout: every sample (nulls included, zero-filled) has this byte length and `fixedShape`. */
  readonly fixedBytes: number | undefined;
  readonly fixedShape: readonly number[] | undefined;
  /** Per-sample CRC32C (only for codec 'none', which allows ranged reads of one sample). */
  readonly sampleCrcs: Uint32Array | undefined;
  /** Bit i set = sample i is null. Undefined when no sample is null. */
  readonly nulls: Uint8Array | undefined;
}

export const CHUNK_MAGIC = 0x43525453; // "STRC" little-endian
export const CHUNK_FORMAT_VERSION = 1;
export const PREAMBLE_BYTES = 32;
const FLAG_NULLS = 1;
const FLAG_SAMPLE_CRCS = 2;
const FLAG_FIXED = 4;

/**
 * Serialises samples into one immutable chunk object (layout in docs/FORMAT.md):
 * 32-byte preamble, header arrays, payload, 4-byte payload CRC32C trailer.
 * When every non-null sample has the same shape and byte length the "fixed" layout is used:
 * no offsets or shapes per sample, nulls are zero-filled.
 */
export function encodeChunk(spec: ChunkSpec, samples: ReadonlyArray<Sample | null>): Uint8Array {
  const count = samples.length;
  let ndim = 0;
  let anyNull = false;
  let fixed: Sample | undefined;
  let uniform = true;
  for (const s of samples) {
    if (s === null) {
      anyNull = true;
      continue;
    }
    ndim = Math.max(ndim, s.shape.length);
    if (!fixed) fixed = s;
    else if (uniform && (s.bytes.byteLength !== fixed.bytes.byteLength || !sameShape(s.shape, fixed.shape)))
      uniform = false;
  }
  const isFixed = uniform && fixed !== undefined && count > 1;
  const fixedBytes = isFixed ? fixed!.bytes.byteLength : 0;
  let raw = 0;
  for (const s of samples) raw += s === null ? fixedBytes : s.bytes.byteLength;
  const payloadRaw = new Uint8Array(raw);
  const offsets = isFixed ? undefined : new Uint32Array(count + 1);
  const shapes = isFixed ? new Uint32Array(ndim) : new Uint32Array(count * ndim);
  const crcs = spec.codec === 'none' && !isFixed ? new Uint32Array(count) : undefined;
  const nulls = anyNull ? new Uint8Array(Math.ceil(count / 8)) : undefined;
  if (isFixed) writeShape(shapes, 0, ndim, fixed!.shape);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (offsets) offsets[i] = pos;
    const s = samples[i];
    if (s === null) {
      nulls![i >> 3] |= 1 << (i & 7);
      pos += fixedBytes;
      continue;
    }
    payloadRaw.set(s.bytes, pos);
    pos += s.bytes.byteLength;
    if (!isFixed) writeShape(shapes, i * ndim, ndim, s.shape);
    if (crcs) crcs[i] = crc32c(s.bytes);
  }
  if (offsets) offsets[count] = pos;
  const payload = compress(spec.codec, payloadRaw);
  const fixedField = isFixed ? new Uint32Array([fixedBytes]) : undefined;
  const arrays = [fixedField, offsets, shapes, crcs, nulls];
  const headerBytes = PREAMBLE_BYTES + arrays.reduce((n, a) => n + (a?.byteLength ?? 0), 0);
  const out = new Uint8Array(headerBytes + payload.byteLength + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, CHUNK_MAGIC, true);
  view.setUint16(4, CHUNK_FORMAT_VERSION, true);
  view.setUint8(6, DTYPE_CODES[spec.dtype]);
  view.setUint8(7, CHUNK_CODEC_CODES[spec.codec]);
  view.setUint8(8, sampleCompressionCode(spec.sampleCompression));
  view.setUint8(9, ndim);
  view.setUint16(10, (anyNull ? FLAG_NULLS : 0) | (crcs ? FLAG_SAMPLE_CRCS : 0) | (isFixed ? FLAG_FIXED : 0), true);
  view.setUint32(12, count, true);
  view.setUint32(16, headerBytes, true);
  view.setUint32(20, payload.byteLength, true);
  view.setUint32(24, raw, true);
  let o = PREAMBLE_BYTES;
  for (const arr of arrays) {
    if (!arr) continue;
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), o);
    o += arr.byteLength;
  }
  const headerCrc = crc32c(out.subarray(PREAMBLE_BYTES, headerBytes), crc32c(out.subarray(0, 28)));
  view.setUint32(28, headerCrc, true);
  out.set(payload, headerBytes);
  view.setUint32(headerBytes + payload.byteLength, crc32c(payload), true);
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Shapes of lower rank than the chunk's ndim are left-padded with 1s. */
function writeShape(into: Uint32Array, at: number, ndim: number, shape: readonly number[]): void {
  const pad = ndim - shape.length;
  for (let d = 0; d < ndim; d++) into[at + d] = d < pad ? 1 : shape[d - pad];
}

/** Parses and verifies a chunk header (the first `headerBytes` bytes of the object). */
export function decodeHeader(bytes: Uint8Array, key: string): ChunkHeader {
  if (bytes.byteLength < PREAMBLE_BYTES) throw corrupt(key, 'object shorter than its preamble');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== CHUNK_MAGIC) throw corrupt(key, 'bad magic');
  const formatVersion = view.getUint16(4, true);
  if (formatVersion > CHUNK_FORMAT_VERSION) {
    throw new StrataError('UNSUPPORTED', `chunk ${key} has format version ${formatVersion}`, {
      key,
      hint: 'upgrade Strata',
    });
  }
  const headerBytes = view.getUint32(16, true);
  if (headerBytes > bytes.byteLength) throw corrupt(key, 'header longer than the bytes read');
  const crc = crc32c(bytes.subarray(PREAMBLE_BYTES, headerBytes), crc32c(bytes.subarray(0, 28)));
  if (crc !== view.getUint32(28, true)) throw corrupt(key, 'header checksum mismatch');
  const ndim = view.getUint8(9);
  const flags = view.getUint16(10, true);
  const count = view.getUint32(12, true);
  const isFixed = (flags & FLAG_FIXED) !== 0;
  const arrayBytes =
    (isFixed ? 4 : (count + 1) * 4) +
    (isFixed ? 1 : count) * ndim * 4 +
    (flags & FLAG_SAMPLE_CRCS ? count * 4 : 0) +
    (flags & FLAG_NULLS ? Math.ceil(count / 8) : 0);
  if (PREAMBLE_BYTES + arrayBytes !== headerBytes) {
    throw corrupt(key, `header is ${headerBytes} bytes, its ${count} samples need ${PREAMBLE_BYTES + arrayBytes}`);
  }
  // Copy header arrays out so they are aligned and do not pin a large buffer.
  let o = bytes.byteOffset + PREAMBLE_BYTES;
  const take = (n: number): Uint8Array => {
    const a = new Uint8Array(bytes.buffer, o, n).slice();
    o += n;
    return a;
  };
  const fixedBytes = isFixed ? new Uint32Array(take(4).buffer)[0] : undefined;
  const offsets = isFixed ? undefined : new Uint32Array(take((count + 1) * 4).buffer);
  const shapes = new Uint32Array(take((isFixed ? 1 : count) * ndim * 4).buffer);
  const sampleCrcs = flags & FLAG_SAMPLE_CRCS ? new Uint32Array(take(count * 4).buffer) : undefined;
  const nulls = flags & FLAG_NULLS ? take(Math.ceil(count / 8)) : undefined;
  let codes: Pick<ChunkHeader, 'dtype' | 'codec' | 'sampleCompression'>;
  try {
    codes = {
      dtype: dtypeFromCode(view.getUint8(6)),
      codec: chunkCodecFromCode(view.getUint8(7)),
      sampleCompression: sampleCompressionFromCode(view.getUint8(8)),
    };
  } catch (err) {
    throw corrupt(key, (err as Error).message);
  }
  return checkLayout(
    {
      formatVersion,
      ...codes,
      ndim,
      count,
      headerBytes,
      payloadBytes: view.getUint32(20, true),
      rawPayloadBytes: view.getUint32(24, true),
      offsets,
      shapes: isFixed ? undefined : shapes,
      fixedBytes,
      fixedShape: isFixed ? Array.from(shapes) : undefined,
      sampleCrcs,
      nulls,
    },
    key,
  );
}

/** A fully read chunk: header plus uncompressed payload, verified. */
export interface DecodedChunk {
  readonly header: ChunkHeader;
  readonly payload: Uint8Array;
}

/** Verifies the payload CRC and decompresses. `bytes` is the whole chunk object. */
export function decodeChunk(bytes: Uint8Array, key: string, header = decodeHeader(bytes, key)): DecodedChunk {
  const end = header.headerBytes + header.payloadBytes;
  if (bytes.byteLength !== end + 4) throw corrupt(key, `object is ${bytes.byteLength} bytes, header says ${end + 4}`);
  const stored = bytes.subarray(header.headerBytes, end);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (crc32c(stored) !== view.getUint32(end, true)) throw corrupt(key, 'payload checksum mismatch');
  let payload: Uint8Array;
  try {
    payload = decompress(header.codec, stored, header.rawPayloadBytes);
  } catch (cause) {
    throw corrupt(key, `payload does not decompress (${(cause as Error).message})`);
  }
  if (payload.byteLength !== header.rawPayloadBytes) {
    throw corrupt(key, `payload is ${payload.byteLength} bytes, header says ${header.rawPayloadBytes}`);
  }
  return { header, payload };
}

/** Sample byte ranges must tile the raw payload exactly, so no sample read can run out of it. */
function checkLayout(h: ChunkHeader, key: string): ChunkHeader {
  const rawBytes = h.rawPayloadBytes;
  if (h.codec === 'none' && h.payloadBytes !== rawBytes) throw corrupt(key, 'uncompressed payload sizes disagree');
  if (h.fixedBytes !== undefined) {
    if (h.fixedBytes * h.count !== rawBytes) throw corrupt(key, 'fixed sample size does not match the payload');
    return h;
  }
  const o = h.offsets!;
  if (o[0] !== 0 || o[h.count] !== rawBytes) throw corrupt(key, 'sample offsets do not span the payload');
  for (let i = 0; i < h.count; i++) if (o[i + 1] < o[i]) throw corrupt(key, `sample ${i} has a negative length`);
  return h;
}

export function isNull(header: ChunkHeader, i: number): boolean {
  return header.nulls !== undefined && (header.nulls[i >> 3] & (1 << (i & 7))) !== 0;
}

export function sampleShape(header: ChunkHeader, i: number): number[] {
  if (header.fixedShape) return header.fixedShape.slice();
  return Array.from(header.shapes!.subarray(i * header.ndim, (i + 1) * header.ndim));
}

/** Byte range [start, end) of sample i within the uncompressed payload. */
export function sampleByteRange(header: ChunkHeader, i: number): [number, number] {
  if (header.fixedBytes !== undefined) return [i * header.fixedBytes, (i + 1) * header.fixedBytes];
  return [header.offsets![i], header.offsets![i + 1]];
}

/** Sample i of a decoded chunk (a zero-copy view), or null. */
export function sampleAt(chunk: DecodedChunk, i: number): Sample | null {
  const h = chunk.header;
  if (isNull(h, i)) return null;
  const [s, e] = sampleByteRange(h, i);
  // A plain Uint8Array view (never a Buffer, whose slice() would share memory).
  return { bytes: new Uint8Array(chunk.payload.buffer, chunk.payload.byteOffset + s, e - s), shape: sampleShape(h, i) };
}

/** Verifies one sample read by range (codec 'none' only). */
export function verifySample(header: ChunkHeader, i: number, bytes: Uint8Array, key: string): void {
  if (header.sampleCrcs && crc32c(bytes) !== header.sampleCrcs[i]) throw corrupt(key, `sample ${i} checksum mismatch`);
}

export function corrupt(key: string, what: string): StrataError {
  return new StrataError('CORRUPT', `chunk ${key} is damaged: ${what}`, {
    key,
    reason: what,
    hint: 'restore the object from a backup or open an earlier version',
  });
}
