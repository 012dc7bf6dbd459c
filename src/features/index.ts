/**
 * Structured features: definitions (TypeScript or YAML), one tile-based window engine for batch and
 * streaming, point-in-time-correct training sets, and the online contract (`latestValues`, `push`).
 * See docs/FEATURES.md.
 */
export {
  FeatureRepo,
  type FeatureRepoOptions,
  type FeatureRepoLoadOptions,
  type LatestValuesOptions,
  type BackfillOptions,
  type StreamStats,
} from './repo.js';
export type { EngineOptions, PairStrategy, TileStrategy } from './engine/engine.js';
export type { RepoLoggingSettings } from './definitions/logging.js';
export {
  defineEntity,
  defineSource,
  defineFeatureView,
  defineFeatureService,
  defineOnDemandView,
  type DefLocation,
} from './definitions/define.js';
export type {
  OnDemandViewDef,
  OnDemandFeatureDef,
  OnDemandTransform,
  OnDemandContext,
  OnDemandView,
  OnDemandFeature,
  OnDemandInput,
} from './definitions/on-demand.js';
export type { ValueFn } from './definitions/expr-value.js';
export { RetrievalJob } from './retrieval/retrieval.js';
export type { HistoricalOptions } from './retrieval/historical.js';
export type { EntityRowsInput, DataFrameLike } from './retrieval/rows.js';
export type { ApplyResult } from './definitions/registry.js';
export type { BackfillRange } from './retrieval/backfill.js';
export type { MemoryOptions } from './retrieval/partitioned.js';
export type { DefinitionIssue } from './definitions/issues.js';
export { registerSourceLoader, type SourceLoader, type SourceLoaderContext } from './sources/registry.js';
export { parseDuration, formatDuration } from './definitions/duration.js';
export { HLL_STD_ERROR } from '../stats/index.js';
export { FeatureStatsRecorder, statsKindOf } from './monitoring/recorder.js';
export {
  STATISTICS_RUN_KINDS,
  checkRunId,
  newRunId,
  type StatisticsRun,
  type StatisticsRunKind,
  type StatisticsRunRecord,
  type StatisticsQueryOptions,
} from './monitoring/runs.js';
export { scoreOf, type DriftOptions, type FeatureDrift, type ViewDriftReport } from './monitoring/drift.js';
export { thresholdsOf } from './monitoring/thresholds.js';
export * from './stream/index.js';
export {
  AGG_FUNCTIONS,
  WINDOW_KINDS,
  SOURCE_KINDS,
  FILE_SOURCE_KINDS,
  STREAM_TRANSPORTS,
  type StreamTransport,
  type StreamConfig,
  SCALAR_DTYPES,
  type AggFunction,
  type WindowKind,
  type SourceKind,
  type ScalarDtype,
  type TableDtype,
  type Duration,
  type Progress,
  type LongOptions,
  type EntityDef,
  type SourceDef,
  type AggregationDef,
  type FeatureDef,
  type FeatureViewDef,
  type FeatureServiceDef,
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
  DRIFT_METRICS,
  type DriftMetric,
  type DriftThresholds,
  type ViewMonitoring,
  type ViewMonitoringDef,
} from './definitions/types.js';
