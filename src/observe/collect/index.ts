/**
 * collect/: samples of Baton's own world — replicas, the proxy's golden signals, hosts
 * (agentless), the controller itself — each with the declarations of its metrics.
 */
export type { CollectedSample, MetricDeclaration, MetricKind } from "./collected.js";
export {
  CONTROLLER_METRIC_DECLARATIONS,
  ControllerMetrics,
  type ControllerMetricsOptions,
} from "./controller-metrics.js";
export { ERROR_RATIO_DECLARATION, ErrorRatio } from "./error-ratio.js";
export {
  collectHostMetrics,
  HOST_METRIC_DECLARATIONS,
  HOST_METRICS_BOUNDARY,
  type HostMetricsOptions,
  hostMetricSamples,
  hostMetricsCommand,
  readHostMetrics,
} from "./host-metrics.js";
export {
  type HostCpuSeconds,
  type HostFilesystem,
  HostMetricsParseError,
  type HostMetricsReading,
  type HostNetworkDevice,
  parseHostMetrics,
} from "./host-metrics-parse.js";
export {
  PROBE_METRIC_DECLARATIONS,
  type ProbeCounts,
  probeSamples,
  type ReplicaProbes,
} from "./probe-metrics.js";
export {
  collectProxyMetrics,
  PROXY_METRIC_DECLARATIONS,
  proxyStatsSamples,
} from "./proxy-metrics.js";
export {
  collectReplicaMetrics,
  REPLICA_METRIC_DECLARATIONS,
  type ReplicaMetricsOptions,
} from "./replica-metrics.js";
