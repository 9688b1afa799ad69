/**
 * Per replica: CPU, memory, uptime and readiness, from the runtime that runs it (a process
 * replica from /proc, a container from the engine's one-shot stats). The replicas' list and
 * their readiness come from the caller, which already knows them: the collector does not
 * ask the runtime to list again on every sample.
 */
import type { Driver, Handle, ReplicaStats } from "../../runtime/driver.js";
import type { CollectedSample, MetricDeclaration } from "./collected.js";

export const REPLICA_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  {
    name: "baton_replica_cpu_seconds_total",
    kind: "counter",
    help: "CPU time (user + system) used by a replica since it started.",
    unit: "seconds",
  },
  {
    name: "baton_replica_memory_bytes",
    kind: "gauge",
    help: "Resident memory of a replica (a container's usage without its page cache).",
    unit: "bytes",
  },
  {
    name: "baton_replica_uptime_seconds",
    kind: "gauge",
    help: "Time since the replica started.",
    unit: "seconds",
  },
  {
    name: "baton_replica_ready",
    kind: "gauge",
    help: "1 when the replica passes its readiness check and receives traffic, else 0.",
    unit: "",
  },
  {
    name: "baton_app_ready_replicas",
    kind: "gauge",
    help: "Replicas of an app that are ready and receive traffic.",
    unit: "",
  },
];

export interface ReplicaMetricsOptions {
  /**
   * Whether a replica is ready; without it, no `baton_replica_ready` and no
   * `baton_app_ready_replicas` sample is written.
   */
  readonly isReady?: (replica: Handle) => boolean;
  /**
   * Apps to report `baton_app_ready_replicas` for even when none of their replicas is
   * listed (all crashed, scaled to zero): they read 0 instead of vanishing.
   */
  readonly apps?: readonly string[];
  /** Clock for the samples' time and the uptime; Date.now by default. */
  readonly now?: () => number;
}

/**
 * The process runtime answers zeros for a replica that is gone (or whose pid was reused):
 * a live process always has resident pages, so zero memory means "no reading", not a value.
 */
function isReading(stats: ReplicaStats): boolean {
  return stats.rssBytes > 0 || stats.cpuSeconds > 0;
}

/**
 * One sample of each replica, read in parallel. A replica that went away between the
 * listing and the reading (its stats call fails, or reads as nothing) is left out of this
 * sample rather than recorded as zero, which would look like a counter reset.
 */
export async function collectReplicaMetrics(
  runtime: Pick<Driver, "stats">,
  replicas: readonly Handle[],
  options: ReplicaMetricsOptions = {},
): Promise<CollectedSample[]> {
  const now = options.now ?? Date.now;
  const readings = await Promise.all(
    replicas.map((replica) =>
      runtime.stats(replica).then(
        (stats) => (isReading(stats) ? stats : undefined),
        () => undefined,
      ),
    ),
  );
  const at = now();
  const samples: CollectedSample[] = [];
  const readyByApp = new Map<string, number>((options.apps ?? []).map((app) => [app, 0]));
  replicas.forEach((replica, i) => {
    const ready = options.isReady?.(replica) === true;
    if (options.isReady !== undefined) {
      readyByApp.set(replica.app, (readyByApp.get(replica.app) ?? 0) + (ready ? 1 : 0));
    }
    const stats = readings[i];
    if (stats === undefined) return;
    const labels = { app: replica.app, replica: replica.id };
    samples.push(
      { name: "baton_replica_cpu_seconds_total", labels, at, value: stats.cpuSeconds },
      { name: "baton_replica_memory_bytes", labels, at, value: stats.rssBytes },
      {
        name: "baton_replica_uptime_seconds",
        labels,
        at,
        value: Math.max(0, (at - replica.startedAt) / 1000),
      },
    );
    if (options.isReady !== undefined) {
      samples.push({ name: "baton_replica_ready", labels, at, value: ready ? 1 : 0 });
    }
  });
  if (options.isReady !== undefined) {
    for (const [app, count] of readyByApp) {
      samples.push({ name: "baton_app_ready_replicas", labels: { app }, at, value: count });
    }
  }
  return samples;
}
