/**
 * Rules of `metrics:` the schema cannot express: aggregates kept at least as long as raw
 * samples (they are made from them), and a sampling interval a controller can keep up with.
 */
import type { Report } from "./checks.js";
import { type Fields, isFields } from "./fields.js";
import { parseDuration } from "./units.js";

/** Below this, sampling 100 replicas would take the controller's whole time. */
const MIN_INTERVAL_MS = 100;

export function checkMetrics(raw: Fields, report: Report): void {
  const metrics = raw.metrics;
  if (!isFields(metrics)) return;
  const interval = durationOf(metrics.interval);
  if (interval !== undefined && interval > 0 && interval < MIN_INTERVAL_MS) {
    report(
      "spec.metrics_interval",
      ["metrics", "interval"],
      "value",
      `metrics.interval is ${String(metrics.interval)}: sampling that often would keep the controller busy`,
      `sample every ${MIN_INTERVAL_MS}ms or less often, or 0s to turn sampling off`,
      { expected: `0s or at least ${MIN_INTERVAL_MS}ms`, found: String(metrics.interval) },
    );
  }
  const hostInterval = durationOf(metrics.hostInterval);
  if (hostInterval === 0) {
    report(
      "spec.metrics_interval",
      ["metrics", "hostInterval"],
      "value",
      "metrics.hostInterval is 0: hosts would be read without pause",
      "read hosts every 15s (the default) or so",
      { expected: "a duration above 0", found: String(metrics.hostInterval) },
    );
  }
  const retention = metrics.retention;
  if (!isFields(retention)) return;
  const kept = durationOf(retention.raw) ?? parseDuration("24h");
  const aggregated = durationOf(retention.aggregated);
  if (kept !== undefined && aggregated !== undefined && aggregated < kept) {
    report(
      "spec.metrics_retention",
      ["metrics", "retention", "aggregated"],
      "value",
      `metrics.retention.aggregated (${String(retention.aggregated)}) is shorter than raw (${String(retention.raw ?? "24h")}): the 1-minute aggregates are made from raw samples as they age`,
      "keep aggregates at least as long as raw samples, e.g. raw: 24h, aggregated: 720h",
      {
        expected: `at least ${String(retention.raw ?? "24h")}`,
        found: String(retention.aggregated),
      },
    );
  }
}

function durationOf(value: unknown): number | undefined {
  return typeof value === "string" ? parseDuration(value) : undefined;
}
