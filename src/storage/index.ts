export { joinKey, newStats, type ReadOptions, type Storage, type StorageStats, type WriteOptions } from './storage.js';
export { MemoryStorage } from './memory.js';
export { LocalStorage, type LocalStorageOptions } from './local.js';
export { S3Storage } from './s3.js';
export { S3_CHECKSUM_MODES, type S3ChecksumMode, type S3StorageOptions } from './s3-options.js';
export { HttpStorage, type HttpStorageOptions } from './http.js';
export { CachedStorage, DEFAULT_CACHE_BYTES, type CacheStats, type CachedStorageOptions } from './cache.js';
export {
  STORAGE_SCHEMES,
  openStorage,
  parseUri,
  type OpenStorageOptions,
  type ParsedUri,
  type StorageScheme,
} from './open.js';
export { backoffDelayMs, withRetry, type RetryOptions } from './retry.js';
export { compareKeys, validateKey } from './checks.js';
