export { createFeatureServer, type FeatureServer, type FeatureServerOptions } from './server.js';
export { ServerMetrics, LATENCY_BUCKETS_S } from './metrics.js';
export { feastResponse, jsonValue, isoTimestamp, parseTimestamp, dfToEvents } from './feast.js';
export { float32ArrayJson } from './json-writer.js';
export { startMonitorViewer, monitorReport, type MonitorViewer, type MonitorViewerOptions } from './monitor-page.js';
export type { MonitorResponse, MonitorView, MonitorFeature, MonitorHistogram } from './viewer/monitor-wire.js';
