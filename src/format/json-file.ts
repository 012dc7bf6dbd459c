import { StrataError } from '../errors.js';
import { crc32c } from './checksum.js';

/** Bytes of the fixed checksum suffix: `,"crc32c":"` + 8 hex digits + `"}`. */
const SUFFIX_BYTES = 21;
const SUFFIX_HEAD = new TextEncoder().encode(',"crc32c":"');

/**
 * Serialises a JSON object followed by `,"crc32c":"xxxxxxxx"}`: the CRC32C (lowercase hex) of every
 * byte before the `,`. The object must have at least one field and no field named `crc32c`.
 */
export function encodeCheckedJson(value: object): Uint8Array {
  const text = JSON.stringify(value);
  if (!text.startsWith('{') || text === '{}' || 'crc32c' in value) {
    throw new StrataError('INVALID_ARGUMENT', 'a checked JSON object needs fields and no crc32c field', {
      field: 'crc32c',
    });
  }
  const body = new TextEncoder().encode(text.slice(0, -1));
  const crc = crc32c(body).toString(16).padStart(8, '0');
  const out = new Uint8Array(body.byteLength + SUFFIX_BYTES);
  out.set(body);
  out.set(new TextEncoder().encode(`,"crc32c":"${crc}"}`), body.byteLength);
  return out;
}

/** True when `bytes` end with a checksum suffix (whether or not it matches). */
export function hasChecksumSuffix(bytes: Uint8Array): boolean {
  const n = bytes.byteLength;
  if (n < SUFFIX_BYTES + 2 || bytes[n - 1] !== 0x7d || bytes[n - 2] !== 0x22) return false;
  for (let i = 0; i < SUFFIX_HEAD.length; i++) if (bytes[n - SUFFIX_BYTES + i] !== SUFFIX_HEAD[i]) return false;
  return true;
}

/** Verifies the suffix and parses the object (without its `crc32c` field); CORRUPT naming `key` otherwise. */
export function decodeCheckedJson<T>(bytes: Uint8Array, key: string, what: string): T {
  const corrupt = (reason: string, cause?: unknown) =>
    new StrataError('CORRUPT', `${what} ${key} is damaged: ${reason}`, {
      key,
      reason,
      cause,
      hint: 'restore the object from a backup, or open an earlier version',
    });
  if (!hasChecksumSuffix(bytes)) throw corrupt('no crc32c suffix (truncated or not a Strata object)');
  const n = bytes.byteLength;
  const body = bytes.subarray(0, n - SUFFIX_BYTES);
  const stored = new TextDecoder().decode(bytes.subarray(n - 10, n - 2));
  const actual = crc32c(body).toString(16).padStart(8, '0');
  if (stored !== actual) throw corrupt(`crc32c ${actual} does not match the stored ${stored}`);
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (cause) {
    throw corrupt('not valid JSON', cause);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw corrupt('not a JSON object');
  delete value.crc32c;
  return value as T;
}
