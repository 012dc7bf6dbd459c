import { compressSync as lz4Compress, uncompressSync as lz4Uncompress } from 'lz4-napi';
import * as zstd from 'zstd-napi';
import { StrataError } from '../errors.js';

/** Whole-chunk compression for numeric and text columns. Encoded media is never re-compressed. */
export const CHUNK_CODECS = ['none', 'lz4', 'zstd'] as const;
export type ChunkCodec = (typeof CHUNK_CODECS)[number];
export const CHUNK_CODEC_CODES: Readonly<Record<ChunkCodec, number>> = { none: 0, lz4: 1, zstd: 2 };

/** Per-sample compression: the sample is stored as the original encoded file bytes. */
export const SAMPLE_COMPRESSIONS = [
  'none',
  'jpeg',
  'png',
  'webp',
  'gif',
  'tiff',
  'bmp',
  'mp4',
  'webm',
  'mkv',
  'mov',
  'avi',
  'wav',
  'mp3',
  'other',
] as const;
export type SampleCompression = (typeof SAMPLE_COMPRESSIONS)[number];

export function sampleCompressionCode(c: SampleCompression): number {
  return SAMPLE_COMPRESSIONS.indexOf(c);
}

export function sampleCompressionFromCode(code: number): SampleCompression {
  const c = SAMPLE_COMPRESSIONS[code];
  if (c === undefined) throw new StrataError('CORRUPT', `unknown sample compression code ${code}`);
  return c;
}

export function chunkCodecFromCode(code: number): ChunkCodec {
  const c = CHUNK_CODECS.find((k) => CHUNK_CODEC_CODES[k] === code);
  if (c === undefined) throw new StrataError('CORRUPT', `unknown chunk codec code ${code}`);
  return c;
}

export function assertChunkCodec(value: unknown): ChunkCodec {
  if ((CHUNK_CODECS as readonly unknown[]).includes(value)) return value as ChunkCodec;
  throw new StrataError('INVALID_ARGUMENT', `unknown chunk compression ${JSON.stringify(value)}`, {
    field: 'chunkCompression',
    hint: `use one of ${CHUNK_CODECS.join(', ')}`,
  });
}

export function compress(codec: ChunkCodec, data: Uint8Array): Uint8Array {
  if (codec === 'none' || data.byteLength === 0) return data;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return codec === 'lz4' ? lz4Compress(buf) : zstd.compress(buf, { compressionLevel: 3 });
}

export function decompress(codec: ChunkCodec, data: Uint8Array, expectedBytes: number): Uint8Array {
  if (codec === 'none' || expectedBytes === 0) return data;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = codec === 'lz4' ? lz4Uncompress(buf) : zstd.decompress(buf);
  if (out.byteLength !== expectedBytes) {
    throw new StrataError(
      'CORRUPT',
      `${codec} payload decompressed to ${out.byteLength} bytes, expected ${expectedBytes}`,
    );
  }
  return out;
}
