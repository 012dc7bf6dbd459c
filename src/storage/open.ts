import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError } from '../errors.js';
import { dotSegment } from './checks.js';
import { CachedStorage } from './cache.js';
import { HttpStorage, type HttpStorageOptions } from './http.js';
import { LocalStorage, type LocalStorageOptions } from './local.js';
import { MemoryStorage } from './memory.js';
import { S3Storage } from './s3.js';
import type { S3StorageOptions } from './s3-options.js';
import type { Storage } from './storage.js';

export const STORAGE_SCHEMES = ['memory', 'file', 's3', 'http', 'https'] as const;
export type StorageScheme = (typeof STORAGE_SCHEMES)[number];

/** A parsed storage URI. Plain paths parse as `file` with an absolute path. */
export type ParsedUri =
  | { readonly scheme: 'memory'; readonly name: string }
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly scheme: 'http' | 'https'; readonly url: string };

export interface OpenStorageOptions {
  /** Options for s3:// URIs. */
  readonly s3?: S3StorageOptions;
  /** Options for file:// URIs and plain paths. */
  readonly local?: LocalStorageOptions;
  /** Options for http(s):// URIs. */
  readonly http?: HttpStorageOptions;
  /** > 0 wraps the store in a CachedStorage (LRU of object bytes) of this size. Default 0 (no cache). */
  readonly cacheBytes?: number;
}

const ACCEPTED = 'memory://name, file:///abs/path, a plain path, s3://bucket/prefix, http(s)://host/path';

function invalid(uri: string, why: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', `invalid storage URI "${uri}": ${why}`, {
    uri,
    hint: `accepted: ${ACCEPTED}`,
    schemes: STORAGE_SCHEMES,
  });
}

/** Parses a storage URI; relative plain paths resolve against the working directory. */
export function parseUri(uri: string): ParsedUri {
  if (typeof uri !== 'string' || uri.trim() === '') throw invalid(String(uri), 'empty');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/s.exec(uri);
  if (!m) {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(uri) && !/^[a-zA-Z]:[\\/]/.test(uri)) {
      throw invalid(uri, 'unknown scheme (did you mean scheme://...?)');
    }
    if (uri.includes('\0')) throw invalid(uri, 'contains NUL');
    return { scheme: 'file', path: path.resolve(uri) };
  }
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  if (scheme === 'memory' || scheme === 'file' || scheme === 's3') {
    const dots = dotSegment(rest.replace(/[?#].*$/s, ''));
    if (dots !== undefined) throw invalid(uri, `has a "${dots}" path segment (it would name objects outside the root)`);
  }
  switch (scheme) {
    case 'memory':
      return { scheme: 'memory', name: rest.replace(/\/+$/, '') };
    case 'file': {
      let p: string;
      try {
        p = fileURLToPath(uri);
      } catch (err) {
        throw invalid(uri, `not a valid file URL (${(err as Error).message})`);
      }
      return { scheme: 'file', path: path.resolve(p) };
    }
    case 's3': {
      const slash = rest.indexOf('/');
      const bucket = slash < 0 ? rest : rest.slice(0, slash);
      if (!/^[a-zA-Z0-9._-]+$/.test(bucket)) throw invalid(uri, 'missing or invalid bucket name');
      const prefix = (slash < 0 ? '' : rest.slice(slash + 1))
        .split('/')
        .filter((p) => p.length > 0)
        .join('/');
      return { scheme: 's3', bucket, prefix };
    }
    case 'http':
    case 'https': {
      try {
        const url = new URL(uri);
        return { scheme, url: url.href };
      } catch {
        throw invalid(uri, 'not a valid URL');
      }
    }
    default:
      throw invalid(uri, `unsupported scheme "${scheme}"`);
  }
}

/**
 * Opens the storage a URI names: `memory://name`, `file://...` or a plain path, `s3://bucket/prefix`,
 * `http(s)://...` (read-only). `cacheBytes > 0` adds an LRU byte cache in front.
 */
export function openStorage(uri: string, options: OpenStorageOptions = {}): Promise<Storage> {
  return Promise.resolve().then(() => storageFor(uri, options));
}

function storageFor(uri: string, options: OpenStorageOptions): Storage {
  const parsed = parseUri(uri);
  let storage: Storage;
  switch (parsed.scheme) {
    case 'memory':
      storage = new MemoryStorage(parsed.name);
      break;
    case 'file':
      storage = new LocalStorage(parsed.path, options.local);
      break;
    case 's3':
      storage = new S3Storage(
        parsed.prefix ? `s3://${parsed.bucket}/${parsed.prefix}` : `s3://${parsed.bucket}`,
        options.s3,
      );
      break;
    case 'http':
    case 'https':
      storage = new HttpStorage(parsed.url, options.http);
      break;
  }
  const cacheBytes = options.cacheBytes ?? 0;
  return cacheBytes > 0 ? new CachedStorage(storage, { cacheBytes }) : storage;
}
