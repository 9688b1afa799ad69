export { MetricsError, type MetricsErrorCode } from "./errors.js";
export {
  type CompactionReport,
  DEFAULT_RETENTION,
  type MetricDeclaration,
  type MetricsRetention,
  MetricsStore,
  type MetricsStoreOptions,
  type NewSample,
  type SeriesAggregates,
  type SeriesColumns,
} from "./metrics-store.js";
export { BUCKET_MS, type MetricKind, type MinuteBucket } from "./minute-bucket.js";
export type { SampleColumns } from "./sample-block.js";
