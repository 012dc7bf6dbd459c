/** A stored object read piece by piece through the Storage interface (local, S3, memory alike). */
import { StrataError, throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';

/** The object's size; NOT_FOUND naming the file when it is absent. */
export async function sizeOf(storage: Storage, key: string, signal?: AbortSignal): Promise<number> {
  const size = await storage.size(key, { signal });
  if (size === undefined)
    throw new StrataError('NOT_FOUND', `table file ${key} does not exist in ${storage.uri}`, {
      uri: storage.uri,
      file: key,
      key,
      hint: 'check the path (relative paths resolve against the repo or source directory)',
    });
  return size;
}

/** The object's bytes in ranges of `chunkBytes`, one range in memory at a time. */
export async function* byteChunks(
  storage: Storage,
  key: string,
  options: { readonly chunkBytes: number; readonly signal?: AbortSignal },
): AsyncGenerator<Uint8Array> {
  const size = await sizeOf(storage, key, options.signal);
  for (let at = 0; at < size; at += options.chunkBytes) {
    throwIfAborted(options.signal, `reading ${key}`);
    yield await storage.getRange(key, at, Math.min(options.chunkBytes, size - at), { signal: options.signal });
  }
}

/** The object's text in pieces (UTF-8; a character split across ranges is joined). */
export async function* textChunks(
  storage: Storage,
  key: string,
  options: { readonly chunkBytes: number; readonly signal?: AbortSignal },
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const bytes of byteChunks(storage, key, options)) yield decoder.decode(bytes, { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}

/**
 * A read-only stand-in for a Node FileHandle over a stored object, so apache-arrow's IPC reader
 * reads only the ranges it needs (`RecordBatchReader.from` recognises `stat` + `fd`).
 */
export function storageFileHandle(storage: Storage, key: string, size: number, signal?: AbortSignal) {
  return {
    fd: -1,
    stat: () => Promise.resolve({ size }),
    async read(buffer: Uint8Array, offset: number, length: number, position: number) {
      // a damaged footer points outside the file: a plain error, which the reader reports as CORRUPT
      if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`read at ${position} in ${key}`);
      const n = Math.max(0, Math.min(length, size - position));
      if (n === 0) return { bytesRead: 0, buffer };
      const bytes = await storage.getRange(key, position, n, { signal });
      buffer.set(bytes, offset);
      return { bytesRead: bytes.byteLength, buffer };
    },
    close: () => Promise.resolve(),
  };
}
