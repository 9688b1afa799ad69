import type { Labels } from "../series.js";
import { MetricsError } from "./errors.js";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Labels as one string that does not depend on the order they were written in: a series is
 * the same series whether a sampler wrote {app, replica} or {replica, app}.
 */
export function canonicalLabels(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return "{}";
  // Samplers mostly write names in one order already: then the object is its own canonical form.
  if (isSorted(names)) return JSON.stringify(labels);
  names.sort();
  const sorted: Record<string, string> = {};
  for (const n of names) sorted[n] = labels[n] as string;
  return JSON.stringify(sorted);
}

function isSorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) {
    if ((names[i - 1] as string) > (names[i] as string)) return false;
  }
  return true;
}

/** Checked once per new series (not per sample): names as Prometheus accepts them. */
export function assertValidSeries(name: string, labels: Labels): void {
  if (!METRIC_NAME.test(name)) {
    throw new MetricsError(
      "metrics.invalid_name",
      `metric name ${JSON.stringify(name)} is not valid`,
      "use letters, digits, '_' and ':' only, not starting with a digit (e.g. baton_app_ready_replicas)",
    );
  }
  for (const [label, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new MetricsError(
        "metrics.invalid_name",
        `label name ${JSON.stringify(label)} of metric ${name} is not valid`,
        "use letters, digits and '_' only, not starting with a digit or '__' (the metric name is its own field)",
      );
    }
    if (typeof value !== "string") {
      throw new MetricsError(
        "metrics.invalid_name",
        `label ${label} of metric ${name} has a ${typeof value} value`,
        "label values are strings: convert numbers with String(...)",
      );
    }
  }
}
