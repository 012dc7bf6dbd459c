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

// media
export { decodeImage, thumbnail, configureSharp, type DecodeImageOptions, type DecodedImage } from './media/image.js';
export { probeVideo, VideoReader, type VideoFrame, type FrameSelection } from './media/video.js';

// ingest, batches, interop
export { ingest, type IngestOptions, type IngestSummary, type IngestProgress, progressBar } from './ingest/index.js';
export { type Batch, type BatchesOptions } from './dataset/batches/index.js';

// embeddings and vector search
export { embed, type EmbedOptions, type EmbedSummary, type EmbedProgress } from './embed/job.js';
export {
  EmbeddingModel,
  TextModel,
  type Preprocess,
  type TextPreprocess,
  type Tokenizer,
  type TokenizerOutput,
} from './embed/index.js';
export { createIndex, type CreateIndexOptions, type DatasetSearchResult, type DatasetHit } from './embed/index.js';
export { METRICS, type Metric } from './embed/search/metrics.js';
export { HnswIndex } from './embed/search/hnsw.js';

// structured features
export {
  FeatureRepo,
  defineEntity,
  defineSource,
  defineFeatureView,
  defineFeatureService,
  registerSourceLoader,
  AGG_FUNCTIONS,
  WINDOW_KINDS,
  type FeatureRepoOptions,
} from './features/index.js';

// online store and serving
export {
  openOnlineStore,
  SqliteOnlineStore,
  RedisOnlineStore,
  getOnlineFeatures,
  materialize,
  materializeIncremental,
  type OnlineStore,
  type OnlineStoreConfig,
} from './online/index.js';
export { createFeatureServer, type FeatureServer, type FeatureServerOptions } from './serve/index.js';
