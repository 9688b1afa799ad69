/**
 * The proxy: the data plane serving each app's public port over its ready replicas.
 * It runs as its own process (main.ts); the rest of Baton drives it with ProxyClient.
 */
export { type EnsureOptions, ProxyClient } from "./client.js";
export { ProxyError, type ProxyErrorCode } from "./errors.js";
export { proxyOwner } from "./owner.js";
export { type ProxyPaths, proxyPaths } from "./paths.js";
export type {
  BackendSpec,
  BackendStatus,
  DeleteResult,
  DrainResult,
  DurationHistogram,
  HealthStatus,
  ProxyStats,
  RouteProtocol,
  RouteSpec,
  RouteStatsSnapshot,
  RouteStatus,
  RoutesSnapshot,
} from "./protocol.js";
export { CLIENT_CLOSED_REQUEST, LATENCY_BUCKETS_S } from "./route-stats.js";
