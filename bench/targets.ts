/** The figures each issue names, with their targets (bench/RESULTS.md puts them side by side). */
export interface Target {
  readonly op: '>=' | '<';
  readonly value: number;
}

export const TARGETS: Record<string, Record<string, Target>> = {
  storage: {
    ratio_vs_files: { op: '>=', value: 3 },
    ratio_vs_raw: { op: '>=', value: 0.7 },
    random_read_us_p50: { op: '<', value: 100 },
    s3_ratio: { op: '>=', value: 20 },
    s3_bytes_overfetch: { op: '<', value: 1.2001 },
    fmt_v2_vs_v1_cold_scan: { op: '>=', value: 0.95 },
    fmt_v2_vs_v1_warm_scan: { op: '>=', value: 0.95 },
    fmt_v1_vs_v2_random_read_p50: { op: '>=', value: 0.95 },
  },
  format: {
    commit_growth: { op: '<', value: 1.5001 },
    open_requests_s3: { op: '<', value: 5.0001 },
    failed_commits: { op: '<', value: 0.5 },
    scan_ratio_after_deletes: { op: '>=', value: 0.9 },
  },
  decode: {
    ratio: { op: '>=', value: 0.9 },
    peak_rss_mb: { op: '<', value: 500 },
  },
  embed: {
    efficiency: { op: '>=', value: 0.9 },
    ann_recall_at_10: { op: '>=', value: 0.95 },
  },
  features: {
    ratio_backfill: { op: '>=', value: 1 },
    ratio_pit_latest: { op: '>=', value: 1 },
    ratio_pit_window: { op: '>=', value: 1 },
  },
  stream: {
    stream_vs_raw: { op: '>=', value: 0.5 },
    freshness_p99_ms: { op: '<', value: 1000 },
  },
  scale: {
    shard_overhead: { op: '>=', value: 0.95 },
    conflicts: { op: '<', value: 0.5 },
  },
  query: {
    pushdown_read_fraction: { op: '<', value: 0.0501 },
    sql_vs_duckdb_parquet: { op: '>=', value: 0.5 },
  },
  serve: {
    ratio_embedded: { op: '>=', value: 0.6 },
    p99_ms_embedded: { op: '<', value: 5 },
    p99_ms_redis: { op: '<', value: 10 },
    inproc_get_us_p50: { op: '<', value: 50 },
    serve_ratio_ondemand: { op: '>=', value: 0.9 },
  },
};
