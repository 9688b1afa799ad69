/**
 * Each app's golden signals as the proxy counted them (`GET /stats` on its control socket)
 * turned into samples. The proxy's counters are cumulative since it (or the route) started;
 * they go out as they are, and `baton_proxy_start_time_seconds` /
 * `baton_http_route_start_time_seconds` change when they restart from zero, so a reader
 * can tell a reset from traffic.
 */
import type { ProxyClient, ProxyStats } from "../../apps/proxy/index.js";
import type { CollectedSample, MetricDeclaration } from "./collected.js";

export const PROXY_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  {
    name: "baton_http_requests_total",
    kind: "counter",
    help: "HTTP requests served by the proxy, by app and status code (502/503 from the proxy itself when no backend answered, 499 when the client left first).",
    unit: "",
  },
  {
    name: "baton_http_request_duration_seconds",
    kind: "histogram",
    help: "Time from a request's first byte to the end of its response, as the proxy saw it.",
    unit: "seconds",
  },
  {
    name: "baton_http_open_connections",
    kind: "gauge",
    help: "Client connections open to an HTTP app's port.",
    unit: "",
  },
  {
    name: "baton_http_connections_total",
    kind: "counter",
    help: "Client connections accepted on an HTTP app's port.",
    unit: "",
  },
  {
    name: "baton_tcp_connections_total",
    kind: "counter",
    help: "Client connections accepted on a TCP app's port.",
    unit: "",
  },
  {
    name: "baton_tcp_open_connections",
    kind: "gauge",
    help: "Client connections open to a TCP app's port.",
    unit: "",
  },
  {
    name: "baton_proxy_bytes_total",
    kind: "counter",
    help: "Bytes between clients and the proxy per app, direction=received (from clients) or sent (to them).",
    unit: "bytes",
  },
  {
    name: "baton_proxy_start_time_seconds",
    kind: "gauge",
    help: "When the proxy process started (Unix time); its counters began then.",
    unit: "seconds",
  },
  {
    name: "baton_proxy_route_start_time_seconds",
    kind: "gauge",
    help: "When an app's route was created in the proxy (Unix time); its counters began then.",
    unit: "seconds",
  },
];

/** Prometheus writes bucket bounds as plain numbers and the last one as "+Inf". */
function le(bound: number): string {
  return Number.isFinite(bound) ? String(bound) : "+Inf";
}

/** The samples of one `/stats` answer, all stamped `at`. */
export function proxyStatsSamples(stats: ProxyStats, at: number): CollectedSample[] {
  const samples: CollectedSample[] = [];
  const add = (name: string, labels: Record<string, string>, value: number): void => {
    samples.push({ name, labels, at, value });
  };
  add("baton_proxy_start_time_seconds", {}, stats.startedAt / 1000);
  for (const route of stats.routes) {
    const app = route.app;
    add("baton_proxy_route_start_time_seconds", { app }, route.since / 1000);
    add("baton_proxy_bytes_total", { app, direction: "received" }, route.bytesIn);
    add("baton_proxy_bytes_total", { app, direction: "sent" }, route.bytesOut);
    if (route.protocol === "tcp") {
      add("baton_tcp_connections_total", { app }, route.connectionsTotal);
      add("baton_tcp_open_connections", { app }, route.openConnections);
      continue;
    }
    add("baton_http_connections_total", { app }, route.connectionsTotal);
    add("baton_http_open_connections", { app }, route.openConnections);
    for (const [code, count] of Object.entries(route.requests ?? {})) {
      add("baton_http_requests_total", { app, code }, count);
    }
    const duration = route.duration;
    if (duration === undefined) continue;
    duration.bucketsS.forEach((bound, i) => {
      add(
        "baton_http_request_duration_seconds_bucket",
        { app, le: le(bound) },
        duration.cumulative[i] ?? 0,
      );
    });
    add(
      "baton_http_request_duration_seconds_bucket",
      { app, le: le(Number.POSITIVE_INFINITY) },
      duration.count,
    );
    add("baton_http_request_duration_seconds_sum", { app }, duration.sumS);
    add("baton_http_request_duration_seconds_count", { app }, duration.count);
  }
  return samples;
}

/**
 * One sample of every route the proxy serves. A proxy running with metrics off answers
 * no routes: only its start time is sampled.
 */
export async function collectProxyMetrics(
  proxy: Pick<ProxyClient, "stats">,
  now: () => number = Date.now,
): Promise<CollectedSample[]> {
  const stats = await proxy.stats();
  return proxyStatsSamples(stats, now());
}
