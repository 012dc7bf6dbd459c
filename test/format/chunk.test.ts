import { describe, expect, it } from 'vitest';
import {
  type Sample,
  decodeChunk,
  decodeHeader,
  encodeChunk,
  sampleAt,
  sampleByteRange,
  verifySample,
} from '../../src/format/chunk.js';
import { CHUNK_CODECS } from '../../src/format/codec.js';
import {
  DTYPES,
  DTYPE_BYTES,
  type DType,
  encodeNumbers,
  float16BitsToNumber,
  float32ToFloat16Bits,
  typedView,
} from '../../src/format/dtype.js';
import { rng, randomSample } from '../helpers/random.js';

describe('chunk encoding', () => {
  const shapes: number[][] = [[], [0], [1], [3], [2, 3], [4, 0, 2], [7, 5, 3]];
  for (const dtype of DTYPES) {
    for (const codec of CHUNK_CODECS) {
      it(`round-trips ${dtype} with ${codec} over every shape, nulls included`, () => {
        const r = rng(`${dtype}-${codec}`);
        const samples: (Sample | null)[] = [];
        for (const shape of shapes) samples.push(randomSample(r, dtype, shape), null);
        const bytes = encodeChunk({ dtype, codec, sampleCompression: 'none' }, samples);
        const chunk = decodeChunk(bytes, 'k');
        expect(chunk.header.count).toBe(samples.length);
        samples.forEach((s, i) => {
          const got = sampleAt(chunk, i);
          if (s === null) expect(got).toBeNull();
          else {
            expect(Buffer.from(got!.bytes).equals(Buffer.from(s.bytes))).toBe(true);
            const pad = got!.shape.length - s.shape.length;
            expect(got!.shape.slice(pad)).toEqual(s.shape);
          }
        });
      });
    }
  }

  it('uses the fixed layout for uniform samples and keeps nulls', () => {
    const s = (v: number): Sample => ({ bytes: encodeNumbers('int32', [v]), shape: [] });
    const samples = [s(1), null, s(-7), s(2 ** 31 - 1)];
    const chunk = decodeChunk(encodeChunk({ dtype: 'int32', codec: 'lz4', sampleCompression: 'none' }, samples), 'k');
    expect(chunk.header.fixedBytes).toBe(4);
    expect(chunk.header.offsets).toBeUndefined();
    expect(sampleAt(chunk, 1)).toBeNull();
    expect(typedView('int32', sampleAt(chunk, 3)!.bytes)[0]).toBe(2 ** 31 - 1);
  });

  it('handles an empty chunk and a chunk of one empty sample', () => {
    for (const samples of [[], [{ bytes: new Uint8Array(0), shape: [0] }]] as Sample[][]) {
      const chunk = decodeChunk(
        encodeChunk({ dtype: 'uint8', codec: 'zstd', sampleCompression: 'none' }, samples),
        'k',
      );
      expect(chunk.header.count).toBe(samples.length);
    }
  });

  it('keeps min, max, NaN and infinities of every numeric dtype', () => {
    const cases: Partial<Record<DType, (number | bigint)[]>> = {
      uint8: [0, 255],
      int8: [-128, 127],
      uint16: [0, 65535],
      int16: [-32768, 32767],
      uint32: [0, 4294967295],
      int32: [-2147483648, 2147483647],
      uint64: [0n, 18446744073709551615n],
      int64: [-9223372036854775808n, 9223372036854775807n],
      float32: [NaN, Infinity, -Infinity, 3.4028234663852886e38, -0],
      float64: [NaN, Number.MAX_VALUE, Number.MIN_VALUE, -Infinity],
      float16: [65504, -65504, NaN, Infinity, 0.5],
    };
    for (const [dtype, values] of Object.entries(cases) as [DType, (number | bigint)[]][]) {
      const sample = { bytes: encodeNumbers(dtype, values), shape: [values.length] };
      const chunk = decodeChunk(encodeChunk({ dtype, codec: 'lz4', sampleCompression: 'none' }, [sample]), 'k');
      const back = Array.from(typedView(dtype, sampleAt(chunk, 0)!.bytes) as ArrayLike<number | bigint>);
      expect(back.map(String)).toEqual(values.map((v) => String(dtype === 'float32' ? Math.fround(Number(v)) : v)));
    }
  });

  it('float16 conversion is exact on representable values', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8])
      expect(float16BitsToNumber(float32ToFloat16Bits(v))).toBe(v);
  });

  it('detects a flipped byte anywhere: header, payload or trailer', () => {
    const r = rng('flip');
    const samples = Array.from({ length: 20 }, () => randomSample(r, 'uint8', [50]));
    for (const codec of CHUNK_CODECS) {
      const good = encodeChunk({ dtype: 'uint8', codec, sampleCompression: 'none' }, samples);
      for (let trial = 0; trial < 50; trial++) {
        const bad = good.slice();
        const at = Math.floor(r() * bad.length);
        bad[at] ^= 1 << Math.floor(r() * 8);
        expect(() => {
          const chunk = decodeChunk(bad, 'key-x');
          // Per-sample checks catch what a ranged reader would see.
          for (let i = 0; i < chunk.header.count; i++) {
            const [s, e] = sampleByteRange(chunk.header, i);
            verifySample(chunk.header, i, chunk.payload.subarray(s, e), 'key-x');
          }
        }).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
      }
    }
  });

  it('ranged reads verify a single sample against its own checksum', () => {
    const r = rng('ranged');
    const samples = Array.from({ length: 5 }, () => randomSample(r, 'uint8', [100]));
    const bytes = encodeChunk(
      { dtype: 'uint8', codec: 'none', sampleCompression: 'jpeg' },
      samples.map((s, i) => ({ ...s, shape: [i + 1, 100] })),
    );
    const h = decodeHeader(bytes.subarray(0, new DataView(bytes.buffer).getUint32(16, true)), 'k');
    expect(h.sampleCompression).toBe('jpeg');
    const [s, e] = sampleByteRange(h, 3);
    const piece = bytes.slice(h.headerBytes + s, h.headerBytes + e);
    expect(() => verifySample(h, 3, piece, 'k')).not.toThrow();
    piece[7] ^= 0xff;
    expect(() => verifySample(h, 3, piece, 'k')).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(DTYPE_BYTES.uint8).toBe(1);
  });
});
