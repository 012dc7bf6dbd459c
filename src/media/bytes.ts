/** Little helpers for reading binary headers. Out-of-range reads yield 0/'' (callers bound-check). */

export const u16be = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
export const u16le = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
export const u24le = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
export const u32be = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
export const u32le = (b: Uint8Array, o: number): number =>
  ((b[o + 3] << 24) >>> 0) + ((b[o + 2] << 16) | (b[o + 1] << 8) | b[o]);
export const i32le = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
export const ascii = (b: Uint8Array, o: number, n: number): string =>
  o + n > b.length ? '' : String.fromCharCode(...b.subarray(o, o + n));

/** EBML variable-length integer at o: [value, byteLength], or undefined. */
export function vint(b: Uint8Array, o: number, keepMarker: boolean): [number, number] | undefined {
  if (o >= b.length) return undefined;
  const first = b[o];
  let len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1)))) len++;
  if (len > 8 || o + len > b.length) return undefined;
  let v = keepMarker ? first : first & (0xff >> len);
  for (let i = 1; i < len; i++) v = v * 256 + b[o + i];
  return [v, len];
}
