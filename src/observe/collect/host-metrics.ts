/**
 * Host metrics without an agent: one command over the host's Transport (SSH, or the local
 * machine) prints /proc/loadavg, the cpu line of /proc/stat, /proc/meminfo, `df -P -k`,
 * /proc/mounts and /proc/net/dev; host-metrics-parse.ts reads them. One round trip per
 * sample keeps a minutely sample of many hosts cheap for them and for the controller.
 */
import type { Transport } from "../../hosts/transport.js";
import type { CollectedSample, MetricDeclaration } from "./collected.js";
import { type HostMetricsReading, parseHostMetrics } from "./host-metrics-parse.js";

/** Marks each part of the output; no file the script prints starts a line with it. */
export const HOST_METRICS_BOUNDARY = "--baton-host-metrics--";

// $1 is the boundary. df's exit code is ignored: one unreadable mount (a stale NFS, a
// container's masked path) must not cost the others.
const SCRIPT = `B="$1"
part() { printf '\\n%s %s\\n' "$B" "$1"; }
part loadavg; cat /proc/loadavg
part clk_tck; getconf CLK_TCK 2>/dev/null
part stat; head -n 1 /proc/stat
part meminfo; cat /proc/meminfo
part mounts; cat /proc/mounts
part df; df -P -k 2>/dev/null
part netdev; cat /proc/net/dev
part end
exit 0
`;

/** The one command a sample runs; argv, so every transport quotes it its own way. */
export function hostMetricsCommand(): string[] {
  return ["sh", "-c", SCRIPT, "sh", HOST_METRICS_BOUNDARY];
}

export const HOST_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  { name: "baton_host_load1", kind: "gauge", help: "Load average over 1 minute.", unit: "" },
  { name: "baton_host_load5", kind: "gauge", help: "Load average over 5 minutes.", unit: "" },
  { name: "baton_host_load15", kind: "gauge", help: "Load average over 15 minutes.", unit: "" },
  {
    name: "baton_host_cpu_seconds_total",
    kind: "counter",
    help: "CPU time of all cores since boot, by mode (user, nice, system, idle, iowait, irq, softirq, steal).",
    unit: "seconds",
  },
  {
    name: "baton_host_memory_bytes",
    kind: "gauge",
    help: "Memory: kind=total (MemTotal), kind=available (MemAvailable, usable without swapping).",
    unit: "bytes",
  },
  {
    name: "baton_host_filesystem_bytes",
    kind: "gauge",
    help: "Disk filesystems by mount: kind=size, used and available (pseudo filesystems left out).",
    unit: "bytes",
  },
  {
    name: "baton_host_network_bytes_total",
    kind: "counter",
    help: "Bytes through a network device since boot, direction=received|sent (lo and veth* left out).",
    unit: "bytes",
  },
];

export interface HostMetricsOptions {
  /** Clock for the samples' time; Date.now by default. */
  readonly now?: () => number;
  /** A host that has not answered in this long fails the sample; 15 s by default. */
  readonly timeoutMs?: number;
}

/** Reads the host's numbers in one exec; fails with the host named when it cannot. */
export async function readHostMetrics(
  transport: Transport,
  options: HostMetricsOptions = {},
): Promise<HostMetricsReading> {
  const result = await transport.exec(hostMetricsCommand(), {
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  const output = result.stdout.toString("utf8");
  if (!output.includes(`${HOST_METRICS_BOUNDARY} end`)) {
    throw new Error(
      `host ${transport.host}: reading metrics failed (exit code ${result.code}): ${result.stderr.toString("utf8").trim().slice(0, 500) || "no output"}`,
    );
  }
  return parseHostMetrics(transport.host, output, HOST_METRICS_BOUNDARY);
}

/** The samples of one reading, labelled with the host's inventory name. */
export function hostMetricSamples(
  host: string,
  reading: HostMetricsReading,
  at: number,
): CollectedSample[] {
  const samples: CollectedSample[] = [];
  const add = (name: string, labels: Record<string, string>, value: number): void => {
    samples.push({ name, labels: { host, ...labels }, at, value });
  };
  add("baton_host_load1", {}, reading.load1);
  add("baton_host_load5", {}, reading.load5);
  add("baton_host_load15", {}, reading.load15);
  for (const [mode, seconds] of Object.entries(reading.cpuSeconds)) {
    add("baton_host_cpu_seconds_total", { mode }, seconds);
  }
  add("baton_host_memory_bytes", { kind: "total" }, reading.memoryTotalBytes);
  add("baton_host_memory_bytes", { kind: "available" }, reading.memoryAvailableBytes);
  for (const fs of reading.filesystems) {
    add("baton_host_filesystem_bytes", { mount: fs.mount, kind: "size" }, fs.sizeBytes);
    add("baton_host_filesystem_bytes", { mount: fs.mount, kind: "used" }, fs.usedBytes);
    add("baton_host_filesystem_bytes", { mount: fs.mount, kind: "available" }, fs.availableBytes);
  }
  for (const net of reading.network) {
    const device = net.device;
    add("baton_host_network_bytes_total", { device, direction: "received" }, net.receivedBytes);
    add("baton_host_network_bytes_total", { device, direction: "sent" }, net.sentBytes);
  }
  return samples;
}

/** One sample of a host: its reading, as samples stamped when the answer arrived. */
export async function collectHostMetrics(
  transport: Transport,
  options: HostMetricsOptions = {},
): Promise<CollectedSample[]> {
  const reading = await readHostMetrics(transport, options);
  return hostMetricSamples(transport.host, reading, (options.now ?? Date.now)());
}
