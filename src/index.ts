/** Strata's public API. */
export { StrataError, ERROR_CODES, isStrataError, type ErrorCode, type ErrorDetails } from './errors.js';
export { STRATA_VERSION } from './version.js';

// storage
export { openStorage, parseUri } from './storage/open.js';
export type { Storage, StorageStats, ReadOptions, WriteOptions } from './storage/storage.js';

// format
export { DTYPES, type DType } from './format/dtype.js';
export { CHUNK_CODECS, SAMPLE_COMPRESSIONS, type ChunkCodec, type SampleCompression } from './format/codec.js';
export type { Manifest, ColumnManifest, ChunkRef } from './format/manifest.js';
export type { VersionInfo } from './format/versions.js';
export type { VacuumOptions, VacuumResult } from './format/vacuum.js';

// dataset
export { Dataset, type OpenOptions, type CreateOptions } from './dataset/dataset.js';
export { ImageCell, VideoCell, type MediaCell, type VideoInfo } from './dataset/cells.js';
export { HTYPES, BBOX_FORMATS, type Htype, type ColumnSpec, type Schema, type BboxFormat } from './dataset/schema.js';
export type { Tensor } from './dataset/htypes/index.js';
export type { ColumnSummary } from './dataset/ops/describe.js';
export type { GroupCount } from './dataset/ops/group-by.js';
export type { FormatOptions } from './dataset/ops/format.js';
export { configureLinks } from './dataset/links.js';
