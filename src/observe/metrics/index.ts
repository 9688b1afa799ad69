export { MetricsError, type MetricsErrorCode } from "./errors.js";
export {
  type CompactionReport,
  DEFAULT_RETENTION,
  type MetricsRetention,
  MetricsStore,
  type MetricsStoreOptions,
  type NewSample,
  type SeriesAggregates,
  type SeriesColumns,
  type SeriesDeclaration,
} from "./metrics-store.js";
export { BUCKET_MS, type MinuteBucket, type SeriesKind } from "./minute-bucket.js";
export type { SampleColumns } from "./sample-block.js";
