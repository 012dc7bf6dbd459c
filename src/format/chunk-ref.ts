import { type ChunkHeader, type DecodedChunk, corrupt, decodeChunk, decodeHeader } from './chunk.js';
import type { ChunkRef, ColumnManifest } from './manifest.js';

/**
 * Checks a chunk header against what the manifest says about the chunk and its column: sample
 * count, header and object size, dtype, chunk codec and sample compression. A mismatch (a manifest
 * naming another version's or another column's chunk, a replaced object) is CORRUPT naming the key.
 */
export function checkChunkRef(header: ChunkHeader, ref: ChunkRef, column: ColumnManifest): ChunkHeader {
  const problems: string[] = [];
  const expect = (what: string, got: unknown, want: unknown): void => {
    if (got !== want) problems.push(`${what} ${String(got)}, manifest says ${String(want)}`);
  };
  expect('samples', header.count, ref.samples);
  expect('header bytes', header.headerBytes, ref.headerBytes);
  expect('object bytes', header.headerBytes + header.payloadBytes + 4, ref.bytes);
  expect('dtype', header.dtype, column.dtype);
  expect('chunk codec', header.codec, column.chunkCompression);
  expect('sample compression', header.sampleCompression, column.sampleCompression);
  if (problems.length > 0) {
    throw corrupt(ref.key, `it does not match its manifest entry (${problems.join('; ')})`);
  }
  return header;
}

/** The header of the chunk `ref` from its first `ref.headerBytes` bytes, verified against the manifest. */
export function decodeRefHeader(bytes: Uint8Array, ref: ChunkRef, column: ColumnManifest): ChunkHeader {
  return checkChunkRef(decodeHeader(bytes, ref.key), ref, column);
}

/** The whole chunk `ref`, verified against the manifest, then its checksums, then decompressed. */
export function decodeRefChunk(bytes: Uint8Array, ref: ChunkRef, column: ColumnManifest): DecodedChunk {
  const header = decodeRefHeader(bytes, ref, column);
  if (bytes.byteLength !== ref.bytes) {
    throw corrupt(ref.key, `object is ${bytes.byteLength} bytes, manifest says ${ref.bytes} (truncated?)`);
  }
  return decodeChunk(bytes, ref.key, header);
}
