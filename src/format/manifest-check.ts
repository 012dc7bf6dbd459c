import { StrataError } from '../errors.js';
import { CHUNK_CODECS, SAMPLE_COMPRESSIONS } from './codec.js';
import { crc32c } from './checksum.js';
import { DTYPES } from './dtype.js';
import type { Manifest } from './manifest.js';

/** Where chunk objects live below a dataset root. */
export const CHUNKS_PREFIX = 'chunks/';

/** Smallest possible chunk object: 32-byte preamble plus the 4-byte payload CRC trailer. */
const MIN_CHUNK_BYTES = 36;
const CHECKSUM_RE = /,"checksum":"crc32c:([0-9a-f]{8})"\}$/;

/** `crc32c:<8 hex>` of the manifest text as written without its trailing checksum member. */
export function manifestChecksum(body: string): string {
  return `crc32c:${crc32c(new TextEncoder().encode(body)).toString(16).padStart(8, '0')}`;
}

/**
 * Serialises a manifest with its checksum as the last member: the checksum covers the exact
 * UTF-8 bytes of the JSON text that precedes `,"checksum":...` with a closing `}` (docs/FORMAT.md).
 */
export function serializeManifest(m: Manifest): string {
  const { checksum: _old, ...rest } = m as Manifest & { checksum?: unknown };
  const body = JSON.stringify(rest);
  return `${body.slice(0, -1)},"checksum":"${manifestChecksum(body)}"}`;
}

/**
 * Verifies a manifest's optional checksum against its text. Manifests written before checksums
 * existed have none and are accepted; a present but mismatching or misplaced one is CORRUPT.
 */
export function verifyManifestChecksum(text: string, parsed: Record<string, unknown>, key: string): void {
  if (parsed.checksum === undefined) return;
  const m = CHECKSUM_RE.exec(text);
  if (!m) throw damaged(key, 'its checksum is not the last member as written by Strata', 'checksum');
  const body = `${text.slice(0, m.index)}}`;
  if (manifestChecksum(body) !== `crc32c:${m[1]}`) throw damaged(key, 'checksum mismatch', 'checksum');
}

/**
 * Checks the structure of a parsed manifest in one place, so readers can trust it: field types,
 * known dtypes and codecs, chunk keys that stay below `chunks/`, and each column's `length` equal to
 * the sum of its chunks' samples and at most the dataset length. Throws CORRUPT naming the field.
 */
export function validateManifest(raw: unknown, key: string): Manifest {
  const m = raw as Record<string, unknown>;
  if (!isObject(m)) throw damaged(key, 'not a JSON object');
  if (!isCount(m.version)) throw damaged(key, '"version" is not a non-negative integer', 'version');
  if (m.parent !== null && !isCount(m.parent)) throw damaged(key, '"parent" is not null or a version', 'parent');
  if (typeof m.timestampMs !== 'number' || !Number.isFinite(m.timestampMs)) {
    throw damaged(key, '"timestampMs" is not a number', 'timestampMs');
  }
  if (typeof m.message !== 'string') throw damaged(key, '"message" is not a string', 'message');
  if (!isCount(m.length)) throw damaged(key, '"length" is not a non-negative integer', 'length');
  if (!isObject(m.meta)) throw damaged(key, '"meta" is not an object', 'meta');
  if (!Array.isArray(m.columns)) throw damaged(key, '"columns" is not an array', 'columns');
  const names = new Set<string>();
  const ids = new Set<string>();
  m.columns.forEach((c: unknown, i: number) => {
    const at = `columns[${i}]`;
    if (!isObject(c)) throw damaged(key, `${at} is not an object`, at);
    const col = c;
    if (typeof col.name !== 'string' || col.name === '') throw damaged(key, `${at}.name is not a string`, `${at}.name`);
    const name = col.name;
    const bad = (field: string, what: string): StrataError =>
      damaged(key, `column ${name}: ${field} ${what}`, `${at}.${field}`, name);
    if (names.has(name)) throw bad('name', 'appears twice');
    names.add(name);
    if (typeof col.id !== 'string' || !/^[A-Za-z0-9_-]+$/.test(col.id)) throw bad('id', 'is not a column id');
    if (ids.has(col.id)) throw bad('id', 'appears twice');
    ids.add(col.id);
    if (typeof col.htype !== 'string') throw bad('htype', 'is not a string');
    if (!(DTYPES as readonly unknown[]).includes(col.dtype))
      throw bad('dtype', `${JSON.stringify(col.dtype)} is unknown`);
    if (!(SAMPLE_COMPRESSIONS as readonly unknown[]).includes(col.sampleCompression)) {
      throw bad('sampleCompression', `${JSON.stringify(col.sampleCompression)} is unknown`);
    }
    if (!(CHUNK_CODECS as readonly unknown[]).includes(col.chunkCompression)) {
      throw bad('chunkCompression', `${JSON.stringify(col.chunkCompression)} is unknown`);
    }
    if (!isObject(col.meta)) throw bad('meta', 'is not an object');
    if (!isCount(col.length)) throw bad('length', 'is not a non-negative integer');
    if (!Array.isArray(col.chunks)) throw bad('chunks', 'is missing (no chunk list)');
    let total = 0;
    col.chunks.forEach((ref: unknown, k: number) => {
      const where = `chunks[${k}]`;
      if (!isObject(ref)) throw bad(where, 'is not an object');
      if (typeof ref.key !== 'string' || !isChunkKey(ref.key)) {
        throw bad(`${where}.key`, `${JSON.stringify(ref.key)} is not a relative key below ${CHUNKS_PREFIX}`);
      }
      if (!isCount(ref.samples)) throw bad(`${where}.samples`, 'is not a non-negative integer');
      if (!isCount(ref.headerBytes) || ref.headerBytes < 32) throw bad(`${where}.headerBytes`, 'is not a header size');
      if (!isCount(ref.bytes) || ref.bytes < Math.max(MIN_CHUNK_BYTES, ref.headerBytes + 4)) {
        throw bad(`${where}.bytes`, 'is smaller than the chunk header');
      }
      total += ref.samples;
    });
    if (total !== col.length) {
      throw bad('length', `is ${col.length} but its chunks hold ${total} samples`);
    }
    if (col.length > (m.length as number)) {
      throw bad('length', `is ${col.length}, more than the dataset's ${m.length as number} rows`);
    }
  });
  return m as unknown as Manifest;
}

/** A chunk key a manifest may name: below `chunks/`, relative, no empty, `.` or `..` segments. */
export function isChunkKey(key: string): boolean {
  if (!key.startsWith(CHUNKS_PREFIX) || key.includes('\\') || key.includes('\0')) return false;
  return key.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function damaged(key: string, what: string, field?: string, column?: string): StrataError {
  return new StrataError('CORRUPT', `manifest ${key} is damaged: ${what}`, {
    key,
    ...(field === undefined ? {} : { field }),
    ...(column === undefined ? {} : { column }),
    reason: what,
    hint: 'open an earlier version (see versions()) or restore the manifest from a backup',
  });
}
