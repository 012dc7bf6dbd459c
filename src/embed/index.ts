/**
 * Embedding features: ONNX models, preprocessing, the embedding job, lineage, and the query embedder
 * of image/text searches (installed on load); vector search itself lives in src/dataset/search.
 */
export { EmbeddingModel, formatDims, type EmbeddingModelOptions, type TensorInfo } from './model.js';
export {
  CHANNEL_ORDERS,
  PREPROCESS_FITS,
  IMAGENET_MEAN,
  IMAGENET_STD,
  channelCount,
  itemDims,
  resizeForModel,
  resolvePreprocess,
  toTensor,
  validatePreprocess,
  type ChannelOrder,
  type PreprocessFit,
  type Preprocess,
  type PreprocessOptions,
  type RawImage,
} from './preprocess.js';
export { embed, type EmbedOptions, type EmbedSummary } from './job.js';
export { embeddingStatistics } from './job-stats.js';
export { closeInferenceCache } from './inference-cache.js';
export { EXECUTION_PROVIDERS, type ExecutionProviderName } from './providers.js';
export {
  TEXT_POOLINGS,
  TextModel,
  type TextModelOptions,
  type TextPooling,
  type TextPreprocess,
  type Tokenizer,
  type TokenizerOutput,
} from './text-model.js';
export {
  loadModel,
  loadTextModel,
  readModelBytes,
  type LoadModelOptions,
  type LoadedModel,
  type ModelSource,
} from './job-model.js';
export { embedQueryImage, embedQueryText, type QueryModelOptions } from './job-query.js';
export {
  MAX_RECORDED_FAILURES,
  ON_LINEAGE_MISMATCH,
  POOLINGS,
  isTextPreprocess,
  lineageDiff,
  readLineage,
  type EmbedFailure,
  type EmbeddingLineage,
  type LineageIdentity,
  type OnLineageMismatch,
  type Pooling,
} from './lineage.js';
export { type JobFrames } from './video.js';
export { refreshEmbedding, type RefreshEmbeddingOptions, type RefreshEmbeddingSummary } from './refresh.js';
export {
  search,
  searchDataset,
  type DatasetHit,
  type DatasetSearchOptions,
  type DatasetSearchResult,
  type SearchQuery,
} from '../dataset/search/dataset-search.js';
export { embedSearchQuery } from './query-embedder.js';
export {
  INDEX_KINDS,
  createIndex,
  type CreateIndexOptions,
  type IndexEntry,
  type IndexKind,
  type IndexPlan,
} from '../dataset/search/index-store.js';
export { ExactIndex, keyToScore, scanExact, searchExact, type ExactSearchOptions } from '../dataset/search/exact.js';
export { HnswIndex, type HnswBuildOptions, type HnswOptions } from '../dataset/search/hnsw.js';
export { METRICS, TopK, vectorNorms, type Metric, type RowFilter, type SearchHit } from '../dataset/search/metrics.js';
/** `embed(model, image)` in `ds.sql` (registered when this module loads). */
export { embedFunction, sqlEmbedStats } from './sql-embed.js';
