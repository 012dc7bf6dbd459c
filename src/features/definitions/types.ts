/**
 * Definition shapes (what users write, in TypeScript or YAML) and the validated objects the
 * engine works with. Definitions say *what* (aggregation, window, filter, key); sources say *where*.
 */
import type { Table } from 'apache-arrow';
import type { TableDtype } from '../../tables/dtypes.js';
import type { OnDemandViewDef } from './on-demand.js';

export const AGG_FUNCTIONS = [
  'count',
  'sum',
  'mean',
  'min',
  'max',
  'last',
  'first',
  'stddev',
  'count_distinct',
  'last_n',
] as const;
export type AggFunction = (typeof AGG_FUNCTIONS)[number];

/** Drift metrics a threshold can be declared on (YAML also accepts `mean_shift`). */
export const DRIFT_METRICS = ['psi', 'js', 'meanShift', 'mmd2'] as const;
export type DriftMetric = (typeof DRIFT_METRICS)[number];

/** Thresholds of one feature: a metric scoring above its threshold is a breach. */
export type DriftThresholds = Readonly<Partial<Record<DriftMetric, number>>>;

/** What a view's `monitoring` holds once validated. */
export interface ViewMonitoring {
  /** Feature name (or `*` for every other feature) → thresholds. */
  readonly drift?: Readonly<Record<string, DriftThresholds>>;
  /** Run id of the statistics run `strata monitor` and `/metrics` compare the latest run with. */
  readonly reference?: string;
}

/** The `monitoring` field of a view definition, as written. */
export interface ViewMonitoringDef {
  /** Run id of the reference statistics run (a materialize, backfill or training run). */
  readonly reference?: string;
  readonly drift?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export const WINDOW_KINDS = ['sliding', 'hopping', 'tumbling', 'lifetime'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

export const FILE_SOURCE_KINDS = ['parquet', 'csv', 'jsonl', 'arrow'] as const;
export const SOURCE_KINDS = [...FILE_SOURCE_KINDS, 'push', 'stream', 'dataset', 'table'] as const;
/** Transports of `kind: stream` sources (src/features/stream/). */
export const STREAM_TRANSPORTS = ['redis', 'jetstream'] as const;
export type StreamTransport = (typeof STREAM_TRANSPORTS)[number];
/** Built-in kinds; further kinds become valid once `registerSourceLoader(kind, …)` is called. */
export type SourceKind = (typeof SOURCE_KINDS)[number] | (string & {});

/** Scalar dtypes of columns and features; lists are written `list<float64>`. */
export const SCALAR_DTYPES = ['bool', 'int32', 'int64', 'float32', 'float64', 'string', 'timestamp'] as const;
export type ScalarDtype = (typeof SCALAR_DTYPES)[number];
/** A dtype string: a scalar, `list<scalar>`, or a vector spelling such as `float32[512]` (src/tables/dtypes.ts). */
export type { TableDtype };

/** A duration: milliseconds, or a string like `500ms`, `30s`, `30m`, `1h30m`, `1d`, `2w`. */
export type Duration = number | string;

export type { Progress } from '../../progress.js';
import type { Progress } from '../../progress.js';

export interface LongOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

// ---------------------------------------------------------------- definitions (input)

export interface EntityDef {
  readonly name: string;
  /** Join key column names. Default `[name]`. */
  readonly joinKeys?: readonly string[];
  /** Type of the (single) join key; checked against every source that feeds the entity. */
  readonly valueType?: ScalarDtype;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SourceDef {
  readonly name: string;
  readonly kind: SourceKind;
  /** File path (relative paths resolve against the repo dir) or URI for pluggable loaders. */
  readonly path?: string;
  /** Event time column. Default `event_timestamp`. */
  readonly timestampField?: string;
  /** Tie-breaker when two rows of an entity share an event time (larger wins). */
  readonly createdTimestampField?: string;
  /** Event id column: duplicate ids are ignored (first one wins). */
  readonly idField?: string;
  /** Push sources: how far behind the newest event a late event may be and still count. Default 0. */
  readonly allowedLateness?: Duration;
  /** Column dtypes; required for push sources, optional override elsewhere. */
  readonly schema?: Readonly<Record<string, TableDtype>>;
  /** Push sources: a batch source holding their history. */
  readonly batchSource?: string;
  /** Stream sources: `redis` (Redis Streams) or `jetstream` (NATS JetStream). */
  readonly transport?: StreamTransport;
  /** Stream sources: the stream name (Redis key prefix / JetStream stream; subjects `<stream>.<partition>`). */
  readonly stream?: string;
  /** Stream sources: number of partitions (events routed by a hash of `keyField`). Default 8. */
  readonly partitions?: number;
  /** Stream sources: the entity key column events are partitioned by (a join key of every view over it). */
  readonly keyField?: string;
  /** `table` sources: the in-memory Arrow table. */
  readonly table?: Table;
  /** Loader-specific settings (e.g. a dataset's columns). */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly description?: string;
}

export interface AggregationDef {
  /** Input column; omit (or `*`) for `count` of rows. */
  readonly column?: string;
  readonly function: AggFunction;
  /** Window size (`30m`) or `lifetime`. */
  readonly window: Duration;
  /** Hopping windows: step between window ends; must divide the window. */
  readonly hop?: Duration;
  /** Default: `lifetime` for window `lifetime`, `hopping` when `hop` is set, else `sliding`. */
  readonly windowKind?: WindowKind;
  /** SQL-like row filter, e.g. `status = 'ok' AND amount > 10`. */
  readonly where?: string;
  /** Output feature name. Default `<column>_<function>_<window>`. */
  readonly name?: string;
  /** `last_n`: how many values. */
  readonly n?: number;
  /** `count_distinct`: exact up to this many distinct values, HyperLogLog above. Default 1000. */
  readonly exactLimit?: number;
}

export interface FeatureDef {
  readonly name: string;
  /** Source column. Default: `name`. */
  readonly column?: string;
  readonly dtype?: TableDtype;
}

export interface FeatureViewDef {
  readonly name: string;
  /** Entity names. */
  readonly entities: readonly string[];
  readonly source: string;
  /** Plain views: rows older than this (relative to the lookup time) are misses. */
  readonly ttl?: Duration;
  /**
   * Freshness SLO: the newest event in the online store may be at most this old (`strata monitor`
   * fails when it is older; `/metrics` exposes it). Default: none.
   */
  readonly freshness?: Duration;
  /** Plain views: columns to expose. Default: every non-key, non-timestamp column. */
  readonly features?: readonly (string | FeatureDef)[];
  /** Aggregation views. */
  readonly aggregations?: readonly AggregationDef[];
  /** Aggregation views: tile (partial aggregate) width. Default: see docs/FEATURES.md. */
  readonly tile?: Duration;
  readonly online?: boolean;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Drift thresholds per feature (docs/MONITORING.md), e.g. `{ drift: { amount: { psi: 0.2 } } }`. */
  readonly monitoring?: ViewMonitoringDef;
}

export interface FeatureServiceDef {
  readonly name: string;
  /** `view:feature` refs; a bare `view` means all its features. */
  readonly features: readonly string[];
  readonly description?: string;
}

export interface Definitions {
  readonly entities?: readonly EntityDef[];
  readonly sources?: readonly SourceDef[];
  readonly views?: readonly FeatureViewDef[];
  readonly services?: readonly FeatureServiceDef[];
  /** Features computed at request time (on-demand.ts). */
  readonly onDemandViews?: readonly OnDemandViewDef[];
}

// ---------------------------------------------------------------- validated objects

export interface Entity {
  readonly name: string;
  readonly joinKeys: readonly string[];
  readonly valueType?: ScalarDtype;
  readonly description?: string;
}

/** A validated stream source's transport settings. */
export interface StreamConfig {
  readonly transport: StreamTransport;
  readonly name: string;
  readonly partitions: number;
  readonly keyField: string;
}

export interface Source {
  readonly name: string;
  readonly kind: SourceKind;
  /** Absolute path for local files; URIs untouched. */
  readonly path?: string;
  readonly timestampField: string;
  readonly createdTimestampField?: string;
  readonly idField?: string;
  readonly allowedLatenessMs: number;
  /** Known column dtypes (declared or read from the file). */
  readonly columns?: Readonly<Record<string, TableDtype>>;
  readonly batchSource?: string;
  /** `kind: stream` sources: where events are published and how they are partitioned. */
  readonly stream?: StreamConfig;
  readonly table?: Table;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly description?: string;
}

export interface WindowSpec {
  readonly kind: WindowKind;
  /** Window width; `Infinity` for lifetime. */
  readonly sizeMs: number;
  /** Hopping: the hop; tumbling: the size; else undefined. */
  readonly hopMs?: number;
}

export interface Aggregation {
  readonly name: string;
  /** Input column; null counts rows. */
  readonly column: string | null;
  readonly function: AggFunction;
  readonly window: WindowSpec;
  readonly where?: string;
  readonly n?: number;
  readonly exactLimit: number;
  /** Output dtype. */
  readonly dtype: TableDtype;
  /** dtype of the input column (null for row counts). */
  readonly inputDtype: TableDtype | null;
}

export interface FeatureSpec {
  readonly name: string;
  readonly dtype: TableDtype;
}

export interface FeatureView {
  readonly name: string;
  /** Join key names (flattened from the view's entities). */
  readonly entities: readonly string[];
  readonly entityNames: readonly string[];
  /** Join key → dtype (the entity's valueType, else the source column's), where known. */
  readonly keyDtypes?: Readonly<Record<string, TableDtype>>;
  readonly source: string;
  readonly kind: 'plain' | 'aggregation';
  readonly features: readonly FeatureSpec[];
  readonly ttlMs?: number;
  /** Freshness SLO (see FeatureViewDef.freshness). */
  readonly freshnessMs?: number;
  /** Plain views: source column per feature (same order as `features`). */
  readonly columns: readonly string[];
  readonly aggregations: readonly Aggregation[];
  /** Aggregation views: tile width. */
  readonly tileMs?: number;
  readonly online: boolean;
  readonly description?: string;
  /** Validated drift thresholds (see src/features/monitoring/thresholds.ts). */
  readonly monitoring?: ViewMonitoring;
}

export interface FeatureService {
  readonly name: string;
  /** `view:feature` refs, expanded. */
  readonly features: readonly string[];
  readonly description?: string;
}

/** One batch of per-entity values (the online layer's contract). */
export interface FeatureRowBatch {
  readonly entityKeys: Record<string, unknown>[];
  readonly values: Record<string, unknown>[];
  /** Plain views: the row's event time. Aggregation views: the time the window values are as of. */
  readonly eventTimestampsMs: Float64Array | number[];
}

export type PushedViewValues = FeatureRowBatch & { readonly view: string };
