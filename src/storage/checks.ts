import { StrataError } from '../errors.js';

/** Local backends write `<dir>/.tmp-<random>` before renaming; such names are never keys. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Validates a key: non-empty, '/'-separated, no leading/trailing '/', no empty, '.' or '..'
 * segments, no NUL or backslash, and no segment starting with `.tmp-` (reserved for temp files).
 * Throws INVALID_ARGUMENT naming the key and the store.
 */
export function validateKey(key: string, uri: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new StrataError('INVALID_ARGUMENT', `empty key in ${uri}`, {
      uri,
      key: String(key),
      hint: 'keys are relative paths like "dir/file.bin"',
    });
  }
  const problem = keyProblem(key);
  if (problem !== undefined) {
    throw new StrataError('INVALID_ARGUMENT', `invalid key "${key}" in ${uri}: ${problem}`, {
      uri,
      key,
      hint: 'keys are relative paths like "dir/file.bin"',
    });
  }
}

/**
 * The first `.` or `..` segment of the path part of a storage URI (a bucket prefix, a memory store
 * name, a file URL path), or undefined. Percent-encoded dots count, since URL parsers decode them.
 * Such segments would let a URI name objects outside the root it appears to name.
 */
export function dotSegment(uriPath: string): string | undefined {
  for (const part of uriPath.split('/')) {
    const decoded = part.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') return part;
  }
  return undefined;
}

/** A list prefix: '' (everything) or a key-like string that may end with '/'. */
export function validatePrefix(prefix: string, uri: string): void {
  if (typeof prefix !== 'string') {
    throw new StrataError('INVALID_ARGUMENT', `list prefix must be a string in ${uri}`, { uri });
  }
  if (prefix.length === 0) return;
  const complete = prefix.endsWith('/');
  const trimmed = complete ? prefix.slice(0, -1) : prefix;
  const problem = trimmed.length === 0 ? 'starts with "/"' : keyProblem(trimmed, !complete);
  if (problem !== undefined) {
    throw new StrataError('INVALID_ARGUMENT', `invalid list prefix "${prefix}" in ${uri}: ${problem}`, {
      uri,
      key: prefix,
      hint: 'prefixes are relative like "dir/" or "dir/fi"',
    });
  }
}

function keyProblem(key: string, isPrefix = false): string | undefined {
  if (key.startsWith('/')) return 'starts with "/"';
  if (key.includes('\0')) return 'contains NUL';
  if (key.includes('\\')) return 'contains "\\"';
  const parts = key.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (part.length === 0) return 'has an empty path segment';
    // A prefix may end in a partial segment like "." ("./x" is still rejected below).
    if ((part === '.' || part === '..') && !(isPrefix && last)) return `has a "${part}" segment`;
    if (part.startsWith(TEMP_PREFIX)) return `segment "${part}" uses the reserved "${TEMP_PREFIX}" prefix`;
  }
  return undefined;
}

/** Validates offset/length of a range read (non-negative safe integers). */
export function validateRange(offset: number, length: number, key: string, uri: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `invalid range offset=${offset} length=${length} for "${key}" in ${uri}`,
      {
        uri,
        key,
        hint: 'offset and length must be non-negative integers',
      },
    );
  }
}

/** The INVALID_ARGUMENT thrown when a range ends past the object's end. */
export function rangePastEnd(key: string, uri: string, offset: number, length: number, size?: number): StrataError {
  const known = size !== undefined && Number.isFinite(size);
  return new StrataError(
    'INVALID_ARGUMENT',
    `range [${offset}, ${offset + length}) is past the end of "${key}"${known ? ` (${size} bytes)` : ''} in ${uri}`,
    { uri, key, offset, length, ...(known ? { size } : {}), hint: 'read within the object size (see size())' },
  );
}

export function notFound(key: string, uri: string, cause?: unknown): StrataError {
  return new StrataError('NOT_FOUND', `object "${key}" not found in ${uri}`, {
    uri,
    key,
    hint: 'check the key and that the dataset was written completely',
    ...(cause === undefined ? {} : { cause }),
  });
}

export function conflict(key: string, uri: string, cause?: unknown): StrataError {
  return new StrataError('CONFLICT', `object "${key}" already exists in ${uri}`, {
    uri,
    key,
    hint: 'another writer created it first; reload and retry',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Throws UNAVAILABLE when a store is used after close(). */
export function assertOpen(closed: boolean, uri: string): void {
  if (closed) {
    throw new StrataError('UNAVAILABLE', `storage ${uri} is closed`, { uri, hint: 'open it again' });
  }
}

/** Orders keys by Unicode code point, which equals S3's UTF-8 byte order. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after all BMP code points in code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Sorts keys in place by code point order and returns them. */
export function sortKeys(keys: string[]): string[] {
  return keys.sort(compareKeys);
}
