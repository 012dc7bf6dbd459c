/**
 * Strata's public API: everything a program needs to call it, and every type it needs to name.
 * Grouped by the data's path (storage → format → media → dataset → embed → features → online → serve).
 * Internals (manifests, chunk layout, the dataset core, progress renderers) are not exported;
 * etc/strata.api.md is the checked report of this surface.
 */
export { StrataError, ERROR_CODES, isStrataError, type ErrorCode, type ErrorDetails } from './errors.js';
export { STRATA_VERSION } from './version.js';
export type { Progress } from './progress.js';

// storage: where bytes live (memory://, local paths, s3://, http(s)://)
export { openStorage, parseUri, type OpenStorageOptions, type ParsedUri } from './storage/open.js';
export type { Storage, StorageStats, ReadOptions, WriteOptions, SweepOptions } from './storage/storage.js';
export { S3_CHECKSUM_MODES, type S3ChecksumMode, type S3StorageOptions } from './storage/index.js';
export type { LocalStorageOptions } from './storage/local.js';
export type { HttpStorageOptions } from './storage/http.js';

// format: element types and codecs of stored columns; versions and vacuum
export { DTYPES, type DType, type TypedArray } from './format/dtype.js';
export { CHUNK_CODECS, SAMPLE_COMPRESSIONS, type ChunkCodec, type SampleCompression } from './format/codec.js';
export type { VersionInfo, CommittedVersion, DamagedVersion } from './format/versions.js';
export type { VacuumOptions, VacuumResult } from './format/vacuum.js';
export type { Tag } from './format/tags.js';
export type { BranchInfo } from './format/branches.js';
export type { BranchOrigin } from './format/manifest-v2.js';

// media: image and video decoding
export {
  IMAGE_FITS,
  ICC_PROFILES,
  FAIL_ON,
  decodeImage,
  thumbnail,
  configureSharp,
  type CropBox,
  type DecodeImageOptions,
  type DecodedImage,
  type FailOn,
  type ImageFit,
  type IccProfile,
  type ResizeOptions,
  type SharpSettings,
  type ThumbnailOptions,
} from './media/image.js';
export type { MediaContext } from './media/context.js';
export { IMAGE_FORMATS, VIDEO_FORMATS, type ImageFormat, type VideoFormat } from './media/image-header.js';
export {
  probeVideo,
  VideoReader,
  FrameStream,
  type ProbeOptions,
  type VideoInfo,
  type VideoInput,
  type VideoFrame,
  type FrameSelection,
  type FrameOptions,
  type FramesOptions,
  type VideoReaderOptions,
} from './media/video.js';

// dataset: versioned tables of media, labels, boxes and embeddings
export {
  Dataset,
  type OpenOptions,
  type CreateOptions,
  type OptimizeDatasetOptions,
  type OptimizeSummary,
  type BranchOptions,
  type StageOptions,
  type CommitJobOptions,
  type CommitJobResult,
} from './dataset/dataset.js';
export type {
  DatasetReader,
  ColumnInfo,
  ColumnStats,
  FragmentCoverage,
  Sample,
  SampleRun,
  ValueRun,
  StoredColumn,
  VersionSummary,
} from './dataset/read.js';
export { Transaction, TRANSACTION_STATES, type TransactionState, type AppendRows } from './dataset/transaction.js';
export { ImageCell, VideoCell, type MediaCell, type CellSource } from './dataset/cells.js';
export type { ByteSource } from './media/range-server.js';
export {
  HTYPES,
  BBOX_FORMATS,
  type Htype,
  type ColumnSpec,
  type ColumnSpecInput,
  type Schema,
  type BboxFormat,
} from './dataset/schema.js';
export type { Tensor } from './dataset/htypes/index.js';
export type { FilterArgument, RowMatch, RowPredicate } from './dataset/verbs/filter.js';
export type { MergeResult, RowChanges, RowSelector } from './dataset/ops/mutate.js';
export type { ColumnSummary } from './dataset/ops/describe.js';
// column statistics and drift: mergeable across shards and runs (ds.statistics(column))
export { ColumnStatistics } from './stats/statistics.js';
export type { ColumnStatsJson, ColumnStatsKind, StatisticsSummary } from './stats/column.js';
export type { DDSketchJson } from './stats/ddsketch.js';
export type { EmbeddingStatsJson } from './stats/embedding.js';
export type { MomentsJson } from './stats/moments.js';
export type { DriftScores } from './stats/drift.js';
export type { AggResult, GroupBy, GroupCount } from './dataset/verbs/group-by.js';
export {
  AGGREGATE_OPS,
  type Aggregate,
  type AggregateOp,
  count,
  countDistinct,
  first,
  last,
  max,
  mean,
  min,
  std,
  sum,
} from './dataset/verbs/aggregates.js';
export type { JoinOptions, JoinSource } from './dataset/verbs/join.js';
export type { SampleOptions, SampleSize } from './dataset/verbs/sample.js';
export type { SortKey, SortOptions } from './dataset/verbs/sort-by.js';
export type { SplitOptions } from './dataset/verbs/split.js';
export type { SavedView } from './dataset/ops/saved-views.js';
export {
  type CellOf,
  type Filled,
  type Joined,
  type NonNull,
  type Renamed,
  type Row,
  type RowFor,
  type RowOf,
  type ScalarOf,
  type WithColumn,
  defineSchema,
} from './dataset/row-types.js';
export type { FormatOptions } from './dataset/ops/format.js';
export type { DeriveFn, DeriveOptions, DerivedLineage } from './dataset/ops/derive.js';
export type { RefreshColumnOptions, RefreshSummary } from './dataset/derived/refresh.js';
export { STALE_COLUMNS, staleColumns, type OnStale } from './dataset/derived/row-lineage.js';
export {
  BATCH_DTYPES,
  BATCH_FITS,
  TENSOR_LAYOUTS,
  type Batch,
  type BatchesOptions,
  type BatchDType,
  type BatchFit,
  type ImageDecodeSpec,
  type TensorLayout,
} from './dataset/batches/index.js';
export type {
  FromTableOptions,
  SqlOptions,
  ToArrowOptions,
  ToDanfoOptions,
  ToParquetOptions,
} from './interop/types.js';

// shards of long jobs (embed, ingest, backfill, materialize): --shard i/n, Kubernetes Indexed Jobs, AWS Batch array jobs
export {
  resolveShard,
  parseShard,
  shardOfKey,
  shardOfEntity,
  type Shard,
  type ShardEnv,
  type ResolveShardOptions,
} from './shard.js';

// ingest: folders, S3 prefixes and tables into a dataset
export { ingest, INGEST_LAYOUTS, type IngestOptions, type IngestSummary, type IngestLayout } from './ingest/index.js';

// embeddings and vector search
export {
  embed,
  closeInferenceCache,
  EmbeddingModel,
  TextModel,
  CHANNEL_ORDERS,
  PREPROCESS_FITS,
  TEXT_POOLINGS,
  POOLINGS,
  ON_LINEAGE_MISMATCH,
  IMAGENET_MEAN,
  IMAGENET_STD,
  INDEX_KINDS,
  createIndex,
  embeddingStatistics,
  refreshEmbedding,
  type RefreshEmbeddingOptions,
  type RefreshEmbeddingSummary,
  type EmbedOptions,
  type EmbedSummary,
  type EmbedFailure,
  type EmbeddingLineage,
  type EmbeddingModelOptions,
  type TextModelOptions,
  type TensorInfo,
  type ModelSource,
  type OnLineageMismatch,
  type Pooling,
  type TextPooling,
  type JobFrames,
  type Preprocess,
  type PreprocessOptions,
  type PreprocessFit,
  type ChannelOrder,
  type TextPreprocess,
  type Tokenizer,
  type TokenizerOutput,
  type LineageIdentity,
  type QueryModelOptions,
  type SearchQuery,
  type DatasetSearchOptions,
  type DatasetSearchResult,
  type DatasetHit,
  type CreateIndexOptions,
  type IndexEntry,
  type IndexKind,
  type IndexPlan,
  sqlEmbedStats,
  embedSearchQuery,
} from './embed/index.js';
export type { QueryEmbedder, QueryEmbedOptions, EmbedQueryInput } from './dataset/search/query-embedder.js';
export type { Tokens } from './embed/text-model.js';
export type { SessionOptions } from './embed/model.js';
export { EXECUTION_PROVIDERS, type ExecutionProviderName } from './embed/providers.js';
export { METRICS, type Metric, type RowFilter, type SearchHit } from './dataset/search/metrics.js';
export { HnswIndex, type HnswOptions, type HnswBuildOptions } from './dataset/search/hnsw.js';

// structured features: definitions, windows, point-in-time training sets
export {
  FeatureRepo,
  RetrievalJob,
  defineEntity,
  defineSource,
  defineFeatureView,
  defineFeatureService,
  defineOnDemandView,
  registerSourceLoader,
  parseDuration,
  formatDuration,
  AGG_FUNCTIONS,
  WINDOW_KINDS,
  SOURCE_KINDS,
  SCALAR_DTYPES,
  type FeatureRepoOptions,
  type RepoLoggingSettings,
  type FeatureRepoLoadOptions,
  type EngineOptions,
  type PairStrategy,
  type TileStrategy,
  type LatestValuesOptions,
  type StreamStats,
  type HistoricalOptions,
  type EntityRowsInput,
  type DataFrameLike,
  type ApplyResult,
  type BackfillRange,
  type BackfillOptions,
  type MemoryOptions,
  STATISTICS_RUN_KINDS,
  DRIFT_METRICS,
  type StatisticsRun,
  type StatisticsRunKind,
  type StatisticsRunRecord,
  type StatisticsQueryOptions,
  type DriftOptions,
  type FeatureDrift,
  type ViewDriftReport,
  type DriftMetric,
  type DriftThresholds,
  type ViewMonitoring,
  type ViewMonitoringDef,
  type DefinitionIssue,
  type DefLocation,
  type SourceLoader,
  type SourceLoaderContext,
  type AggFunction,
  type WindowKind,
  type SourceKind,
  type ScalarDtype,
  type TableDtype,
  type Duration,
  type LongOptions,
  type EntityDef,
  type SourceDef,
  type AggregationDef,
  type FeatureDef,
  type FeatureViewDef,
  type FeatureServiceDef,
  type OnDemandViewDef,
  type OnDemandFeatureDef,
  type OnDemandTransform,
  type OnDemandContext,
  type OnDemandView,
  type OnDemandFeature,
  type OnDemandInput,
  type ValueFn,
  type Definitions,
  type Entity,
  type Source,
  type WindowSpec,
  type Aggregation,
  type FeatureSpec,
  type FeatureView,
  type FeatureService,
  type FeatureRowBatch,
  type PushedViewValues,
  STREAM_TRANSPORTS,
  type StreamTransport,
  type StreamConfig,
  openStreamSource,
  partitionOf,
  StreamPartition,
  StreamCoordinator,
  type StreamSource,
  type StreamSourceOptions,
  type StreamRecord,
  type StreamPublish,
  type PartitionReader,
  type PartitionCheckpoint,
  type CoordinatorOptions,
  type CheckpointDelta,
} from './features/index.js';

// online store and serving
export {
  openOnlineStore,
  ONLINE_STORE_TYPES,
  SqliteOnlineStore,
  RedisOnlineStore,
  getOnlineFeatures,
  materialize,
  materializeIncremental,
  searchOnline,
  OnlineFeatures,
  FEATURE_STATUSES,
  type OnlineStore,
  type OnlineStoreType,
  type OnlineStoreConfig,
  type SqliteOnlineStoreOptions,
  type RedisOnlineStoreOptions,
  type OnlineWriteRow,
  type OnlineWriteResult,
  type OnlineRecord,
  type OnlineScanRow,
  type OnlineStoreHealth,
  type OnlineReadOptions,
  type OnlineScanOptions,
  type OnlineWatermark,
  viewFreshness,
  FRESHNESS_STATUSES,
  type FreshnessStatus,
  type ViewFreshness,
  type FreshnessOptions,
  storeMonitorSource,
  isDrifted,
  DEFAULT_DRIFT_THRESHOLDS,
  type MonitorSource,
  type FeatureMonitor,
  type StoreMonitorSourceOptions,
  viewDriftStatus,
  driftFeatureMonitors,
  effectiveThresholds,
  DriftStatusCache,
  type DriftStatus,
  type ReferenceSource,
  type FeatureDriftStatus,
  type ViewDriftStatus,
  type DriftMonitorOptions,
  type DriftRepo,
  type EntityKey,
  type OnlineRepo,
  type OnlineView,
  type OnlineFeatureDef,
  type LatestValuesBatch,
  type PushedBatch,
  type NamedCollection,
  type ServiceRefs,
  type GetOnlineFeaturesOptions,
  type FeatureStatus,
  type FeatureColumn,
  type OnlineRow,
  type FeatureTensor,
  type FeatureTensorOptions,
  type MaterializeOptions,
  type MaterializeIncrementalOptions,
  type MaterializeResult,
  type ViewMaterialization,
  type SearchOnlineOptions,
  type SearchFilter,
  type OnlineSearchHit,
  StreamConsumer,
  type StreamConsumerOptions,
  type StreamConsumerEvent,
  type StreamPartitionStats,
  FeatureLogger,
  FEATURE_LOG_SCHEMA,
  type FeatureLoggingOptions,
  type FeatureLogStats,
  checkConsistency,
  type ConsistencyOptions,
  type ConsistencyReport,
  type ConsistencyExample,
  type FeatureConsistency,
  type HistoricalFeatureSource,
} from './online/index.js';
export { createFeatureServer, ServerMetrics, type FeatureServer, type FeatureServerOptions } from './serve/index.js';
export {
  startMonitorViewer,
  monitorReport,
  type MonitorViewer,
  type MonitorViewerOptions,
  type MonitorResponse,
  type MonitorView,
  type MonitorFeature,
  type MonitorHistogram,
} from './serve/index.js';
