import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC32C (Castagnoli) of bytes, hardware-accelerated where the CPU has SSE4.2. */
export function crc32c(bytes: Uint8Array, initial = 0): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return nativeCrc32c(buf, initial) >>> 0;
}
