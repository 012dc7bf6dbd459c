export type {
  OnlineStore,
  OnlineWriteRow,
  OnlineWriteResult,
  OnlineRecord,
  OnlineScanRow,
  OnlineStoreHealth,
  OnlineReadOptions,
  OnlineScanOptions,
  OnlineWatermark,
} from './store.js';
export {
  viewFreshness,
  FRESHNESS_STATUSES,
  type FreshnessStatus,
  type ViewFreshness,
  type FreshnessOptions,
} from './freshness.js';
export {
  storeMonitorSource,
  isDrifted,
  DEFAULT_DRIFT_THRESHOLDS,
  type MonitorSource,
  type FeatureMonitor,
  type StoreMonitorSourceOptions,
} from './monitor.js';
export {
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
} from './drift-monitor.js';
export { encodeEntityKey, decodeEntityKey, type EntityKey } from './keys.js';
export { encodeValue, decodeValue, encodeRecord, decodeRecord } from './codec.js';
export { vectorDtype, coerceForDtype, type VectorDtype } from './dtypes.js';
export { SqliteOnlineStore, defaultOnlineStorePath, type SqliteOnlineStoreOptions } from './sqlite.js';
export { RedisOnlineStore, type RedisOnlineStoreOptions } from './redis.js';
export { openOnlineStore, ONLINE_STORE_TYPES, type OnlineStoreType, type OnlineStoreConfig } from './open.js';
export type {
  OnlineRepo,
  OnlineView,
  OnlineFeatureDef,
  LatestValuesBatch,
  PushedBatch,
  NamedCollection,
  ServiceRefs,
} from './types.js';
export { indexRepo, resolveFeatures, resolveRef, viewOf, type RepoIndex, type ResolvedFeature } from './repo-index.js';
export { type GetOnlineFeaturesOptions } from './read.js';
export { getOnlineFeatures } from './get.js';
export {
  OnlineFeatures,
  FEATURE_STATUSES,
  type FeatureStatus,
  type FeatureColumn,
  type OnlineRow,
  type FeatureTensor,
  type FeatureTensorOptions,
} from './result.js';
export { searchOnline, type SearchFilter, type OnlineSearchHit, type SearchOnlineOptions } from './search.js';
export {
  materialize,
  materializeIncremental,
  materializedEnd,
  watermarkKey,
  shardWatermarkKey,
  toWriteRows,
  type MaterializeOptions,
  type MaterializeIncrementalOptions,
  type MaterializeResult,
  type ViewMaterialization,
} from './materialize.js';
export { pushToOnline, writePushed, type PushToOnlineOptions, type PushToOnlineResult } from './push.js';
export {
  StreamConsumer,
  type StreamConsumerOptions,
  type StreamConsumerEvent,
  type StreamPartitionStats,
} from './stream-consumer.js';
export {
  FeatureLogger,
  FEATURE_LOG_SCHEMA,
  loggedValue,
  type FeatureLoggingOptions,
  type FeatureLogStats,
} from './feature-log.js';
export {
  checkConsistency,
  sameFeatureValue,
  type ConsistencyOptions,
  type ConsistencyReport,
  type ConsistencyExample,
  type FeatureConsistency,
  type HistoricalFeatureSource,
} from './consistency.js';
