/**
 * One frame of `baton top`, from the metrics the controller samples: per app ready/desired,
 * request rate, error ratio, latency quantiles, CPU and memory; per host load, memory and
 * disk; the controller's own CPU, memory and event-loop lag. Rates and quantiles are over
 * the last WINDOW of samples.
 */
import {
  groupBy,
  histogramQuantile,
  increaseOf,
  type MetricsJson,
  type SeriesJson,
  sum,
  windowRate,
} from "./metrics-math.js";
import { table } from "./output.js";

/** Rates and quantiles cover this much of the newest samples. */
export const TOP_WINDOW = "15s";
/** Hosts are read every 15 s: their newest reading is within this. */
export const TOP_HOST_WINDOW = "45s";

/** The metrics a frame reads, with how far back. */
export const TOP_QUERIES: Readonly<Record<string, string>> = {
  baton_app_ready_replicas: "5s",
  baton_app_desired_replicas: "5s",
  baton_http_requests_total: TOP_WINDOW,
  baton_http_request_duration_seconds_bucket: TOP_WINDOW,
  baton_replica_cpu_seconds_total: TOP_WINDOW,
  baton_replica_memory_bytes: "5s",
  baton_host_load1: TOP_HOST_WINDOW,
  baton_host_memory_bytes: TOP_HOST_WINDOW,
  baton_host_filesystem_bytes: TOP_HOST_WINDOW,
  baton_controller_cpu_seconds_total: TOP_WINDOW,
  baton_controller_resident_memory_bytes: "5s",
  baton_controller_event_loop_lag_seconds: "5s",
};

export type TopData = ReadonlyMap<string, MetricsJson | undefined>;

export function renderTop(data: TopData, at: number): string {
  const series = (name: string): readonly SeriesJson[] => data.get(name)?.series ?? [];
  const latest = (s: SeriesJson): number | undefined => s.samples.at(-1)?.[1];
  const lines = [`baton top — ${new Date(at).toISOString().slice(11, 19)} UTC (q to quit)`, ""];

  const ready = perApp(series("baton_app_ready_replicas"), latest);
  const desired = perApp(series("baton_app_desired_replicas"), latest);
  const requests = series("baton_http_requests_total");
  const rps = perApp(requests, (s) => windowRate(s.samples));
  const errors = perApp(
    requests.filter((s) => (s.labels.code ?? "").startsWith("5")),
    (s) => increaseOf(s.samples),
  );
  const total = perApp(requests, (s) => increaseOf(s.samples));
  const cpu = perApp(series("baton_replica_cpu_seconds_total"), (s) => windowRate(s.samples));
  const memory = perApp(series("baton_replica_memory_bytes"), latest);
  const latency = latencies(series("baton_http_request_duration_seconds_bucket"));
  const apps = [...new Set([...desired.keys(), ...ready.keys()])].sort();
  const appRows = [["APP", "READY", "REQ/S", "ERR%", "P50", "P95", "P99", "CPU%", "MEM"]];
  for (const app of apps) {
    const q = latency.get(app);
    const all = total.get(app) ?? 0;
    appRows.push([
      app,
      `${ready.get(app) ?? 0}/${desired.get(app) ?? 0}`,
      fixed(rps.get(app), 1),
      all > 0 ? fixed(((errors.get(app) ?? 0) / all) * 100, 1) : "-",
      ms(q?.(0.5)),
      ms(q?.(0.95)),
      ms(q?.(0.99)),
      fixed(
        mapped(cpu.get(app), (v) => v * 100),
        1,
      ),
      bytes(memory.get(app)),
    ]);
  }
  lines.push(apps.length === 0 ? "no apps" : table(appRows), "");

  const load = perLabel(series("baton_host_load1"), "host", latest);
  const memoryOf = (kind: string) =>
    perLabel(
      series("baton_host_memory_bytes").filter((s) => s.labels.kind === kind),
      "host",
      latest,
    );
  const memTotal = memoryOf("total");
  const memAvailable = memoryOf("available");
  const disk = diskUse(series("baton_host_filesystem_bytes"));
  const hosts = [...load.keys()].sort();
  const hostRows = [["HOST", "LOAD1", "MEM%", "DISK%"]];
  for (const host of hosts) {
    const t = memTotal.get(host);
    const a = memAvailable.get(host);
    hostRows.push([
      host,
      fixed(load.get(host), 2),
      t !== undefined && a !== undefined && t > 0 ? fixed(((t - a) / t) * 100, 1) : "-",
      fixed(disk.get(host), 1),
    ]);
  }
  lines.push(hosts.length === 0 ? "no hosts sampled" : table(hostRows), "");

  const controllerCpu = sum(
    series("baton_controller_cpu_seconds_total").flatMap((s) => {
      const rate = windowRate(s.samples);
      return rate === undefined ? [] : [rate];
    }),
  );
  const rss = series("baton_controller_resident_memory_bytes").map(latest)[0];
  const lag = series("baton_controller_event_loop_lag_seconds").find(
    (s) => s.labels.stat === "p99",
  );
  lines.push(
    `controller  CPU ${fixed(controllerCpu * 100, 1)}%  MEM ${bytes(rss)}  loop lag p99 ${ms(
      lag === undefined ? undefined : latest(lag),
    )}`,
  );
  return lines.join("\n");
}

/** Values of each series summed per app. */
function perApp(
  series: readonly SeriesJson[],
  value: (s: SeriesJson) => number | undefined,
): Map<string, number> {
  return perLabel(series, "app", value);
}

function perLabel(
  series: readonly SeriesJson[],
  label: string,
  value: (s: SeriesJson) => number | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, values] of groupBy(series, label, value)) out.set(key, sum(values));
  return out;
}

/** Per app, a quantile function over the window's bucket increases. */
function latencies(buckets: readonly SeriesJson[]): Map<string, (q: number) => number | undefined> {
  const increases = new Map<string, Map<number, number>>();
  for (const s of buckets) {
    const app = s.labels.app ?? "";
    const le = s.labels.le;
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    const byBound = increases.get(app) ?? new Map<number, number>();
    byBound.set(bound, (byBound.get(bound) ?? 0) + increaseOf(s.samples));
    increases.set(app, byBound);
  }
  const out = new Map<string, (q: number) => number | undefined>();
  for (const [app, byBound] of increases) out.set(app, (q) => histogramQuantile(q, byBound));
  return out;
}

/** Per host, the fullest filesystem's used share, in percent. */
function diskUse(series: readonly SeriesJson[]): Map<string, number> {
  const sizes = new Map<string, number>();
  const used = new Map<string, number>();
  for (const s of series) {
    const key = `${s.labels.host ?? ""}\0${s.labels.mount ?? ""}`;
    const value = s.samples.at(-1)?.[1];
    if (value === undefined) continue;
    if (s.labels.kind === "size") sizes.set(key, value);
    if (s.labels.kind === "used") used.set(key, value);
  }
  const out = new Map<string, number>();
  for (const [key, size] of sizes) {
    const u = used.get(key);
    if (u === undefined || size <= 0) continue;
    const host = key.slice(0, key.indexOf("\0"));
    out.set(host, Math.max(out.get(host) ?? 0, (u / size) * 100));
  }
  return out;
}

function mapped(value: number | undefined, f: (v: number) => number): number | undefined {
  return value === undefined ? undefined : f(value);
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

function ms(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "-";
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)}ms` : `${seconds.toFixed(2)}s`;
}

function bytes(value: number | undefined): string {
  if (value === undefined) return "-";
  if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)}Gi`;
  if (value >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(1)}Mi`;
  return `${Math.round(value / 1024)}Ki`;
}
