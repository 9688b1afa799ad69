import type { Labels } from "../series.js";
import type { AlertRule } from "./types.js";

/**
 * An alert's labels: the series' labels, then the rule's own, then `alertname` and `severity`
 * — the later win, as in Prometheus, so a series cannot pretend to be another rule.
 */
export function alertLabels(rule: AlertRule, seriesLabels: Labels): Labels {
  return { ...seriesLabels, ...rule.labels, alertname: rule.name, severity: rule.severity };
}

/** A stable identity for a label set: its pairs sorted by name, rendered PromQL-style. */
export function fingerprintOf(labels: Labels): string {
  return renderLabels(labels, Object.keys(labels).sort());
}

/** The labels named in `groupBy` that the alert has, in `groupBy`'s order. */
export function groupLabelsOf(labels: Labels, groupBy: readonly string[]): Labels {
  const picked: Record<string, string> = {};
  for (const name of groupBy) {
    const value = labels[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

export function renderLabels(
  labels: Labels,
  names: readonly string[] = Object.keys(labels),
): string {
  const pairs = names.map((name) => `${name}=${JSON.stringify(labels[name] ?? "")}`);
  return `{${pairs.join(",")}}`;
}

/** The summary with `{{ $labels.NAME }}` and `{{ $value }}` filled in; unknown labels read "". */
export function fillSummary(template: string, labels: Labels, value: number | null): string {
  return template.replace(
    /\{\{\s*\$(labels\.([A-Za-z_][A-Za-z0-9_]*)|value)\s*\}\}/g,
    (_m, _w, name) =>
      name === undefined ? (value === null ? "" : String(value)) : (labels[name as string] ?? ""),
  );
}
