/**
 * Health checks as metrics: how many checks of each replica's readiness and liveness probes
 * ran and failed, and the last one's outcome and latency — what the apps reconciler's probe
 * loops have counted (no check is run for the metrics' sake).
 */
import type { CollectedSample, MetricDeclaration } from "./collected.js";

/** One probe kind's counts for a replica, as its health loop keeps them. */
export interface ProbeCounts {
  readonly checks: number;
  readonly failures: number;
  readonly lastOk: boolean;
  readonly lastLatencyMs: number;
}

export interface ReplicaProbes {
  readonly app: string;
  readonly replica: string;
  readonly probes: Readonly<Partial<Record<"readiness" | "liveness", ProbeCounts>>>;
}

export const PROBE_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  {
    name: "baton_probe_checks_total",
    kind: "counter",
    help: "Health checks run on a replica, by probe (readiness or liveness).",
    unit: "",
  },
  {
    name: "baton_probe_failures_total",
    kind: "counter",
    help: "Health checks of a replica that failed, by probe.",
    unit: "",
  },
  {
    name: "baton_probe_success",
    kind: "gauge",
    help: "Whether a replica's last check of the probe passed (1) or failed (0).",
    unit: "",
  },
  {
    name: "baton_probe_duration_seconds",
    kind: "gauge",
    help: "How long a replica's last check of the probe took.",
    unit: "seconds",
  },
];

export function probeSamples(replicas: readonly ReplicaProbes[], at: number): CollectedSample[] {
  const samples: CollectedSample[] = [];
  for (const { app, replica, probes } of replicas) {
    for (const probe of ["readiness", "liveness"] as const) {
      const counts = probes[probe];
      if (counts === undefined) continue;
      const labels = { app, replica, probe };
      samples.push(
        { name: "baton_probe_checks_total", labels, at, value: counts.checks },
        { name: "baton_probe_failures_total", labels, at, value: counts.failures },
        { name: "baton_probe_success", labels, at, value: counts.lastOk ? 1 : 0 },
        { name: "baton_probe_duration_seconds", labels, at, value: counts.lastLatencyMs / 1000 },
      );
    }
  }
  return samples;
}
