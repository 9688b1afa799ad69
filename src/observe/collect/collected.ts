/**
 * What every collector hands to the metrics store and the exposition: samples of named,
 * labelled series, and a declaration of each metric (its kind, help and unit) so the
 * Prometheus exposition can write `# HELP` / `# TYPE` lines and `promtool` accepts them.
 */
import type { Labels } from "../series.js";

/** One observation of one series. */
export interface CollectedSample {
  readonly name: string;
  readonly labels: Labels;
  /** ms since the epoch. */
  readonly at: number;
  readonly value: number;
}

export type MetricKind = "counter" | "gauge" | "histogram";

/**
 * A metric family. A histogram `NAME` is sampled as `NAME_bucket{le}`, `NAME_sum` and
 * `NAME_count`; a counter's name ends in `_total`.
 */
export interface MetricDeclaration {
  readonly name: string;
  readonly kind: MetricKind;
  readonly help: string;
  /** The base unit the name ends with ("seconds", "bytes"), or "" for a plain count. */
  readonly unit: string;
}
