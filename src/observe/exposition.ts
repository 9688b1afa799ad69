import type { Labels } from "./series.js";

/**
 * Renders metric families in the Prometheus text exposition format 0.0.4, the body of
 * `GET /metrics`. The families are Baton's own, so a malformed one (a bad name, a counter
 * without `_total`, a non-base unit, buckets out of order) is a bug and throws
 * `ExpositionError` rather than emitting text a scraper would reject.
 */

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Base units only, as Prometheus asks: seconds not milliseconds, bytes not kilobytes. */
export type BaseUnit = "seconds" | "bytes" | "ratio";

export interface ValueSample {
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSample {
  readonly labels: Labels;
  /** Observations per bucket, NOT cumulative: one per upper bound, then one for above the last. */
  readonly counts: readonly number[];
  readonly sum: number;
}

interface FamilyBase {
  /** The full name as exposed, `_total` included for counters. */
  readonly name: string;
  readonly help: string;
  /** When given, the name must carry it as a suffix (before `_total`). */
  readonly unit?: BaseUnit;
}

export interface CounterFamily extends FamilyBase {
  readonly type: "counter";
  readonly samples: readonly ValueSample[];
}

export interface GaugeFamily extends FamilyBase {
  readonly type: "gauge";
  readonly samples: readonly ValueSample[];
}

export interface HistogramFamily extends FamilyBase {
  readonly type: "histogram";
  /** Upper bounds, finite and strictly increasing; `+Inf` is added when rendering. */
  readonly buckets: readonly number[];
  readonly samples: readonly HistogramSample[];
}

export type MetricFamily = CounterFamily | GaugeFamily | HistogramFamily;

export class ExpositionError extends Error {
  override readonly name = "ExpositionError";
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Suffixes promtool's lint flags as non-base units, with the base unit to use instead. */
const NON_BASE_UNITS: Readonly<Record<string, string>> = {
  milliseconds: "seconds",
  microseconds: "seconds",
  nanoseconds: "seconds",
  minutes: "seconds",
  hours: "seconds",
  days: "seconds",
  kilobytes: "bytes",
  megabytes: "bytes",
  gigabytes: "bytes",
  bits: "bytes",
  percent: "ratio",
};
const HISTOGRAM_SUFFIXES = ["_bucket", "_count", "_sum"];

export function renderExposition(families: readonly MetricFamily[]): string {
  const taken = new Set<string>();
  const lines: string[] = [];
  for (const family of families) {
    checkFamily(family);
    for (const name of exposedNames(family)) {
      if (taken.has(name)) throw new ExpositionError(`metric name ${name} is exposed twice`);
      taken.add(name);
    }
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") renderHistogram(family, lines);
    else renderValues(family, lines);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function renderValues(family: CounterFamily | GaugeFamily, lines: string[]): void {
  const seen = new Set<string>();
  for (const sample of family.samples) {
    const labels = renderLabels(family.name, sample.labels, seen);
    if (family.type === "counter" && !(sample.value >= 0)) {
      throw new ExpositionError(
        `counter ${family.name}${labels} has the value ${sample.value}; counters are never negative or NaN`,
      );
    }
    lines.push(`${family.name}${labels} ${formatNumber(sample.value)}`);
  }
}

function renderHistogram(family: HistogramFamily, lines: string[]): void {
  const seen = new Set<string>();
  const bounds = [...family.buckets.map(formatNumber), "+Inf"];
  for (const sample of family.samples) {
    const labels = renderLabels(family.name, sample.labels, seen);
    if (sample.counts.length !== bounds.length) {
      throw new ExpositionError(
        `histogram ${family.name}${labels} has ${sample.counts.length} bucket counts for ${family.buckets.length} bounds; give one per bound plus one for above the last`,
      );
    }
    let cumulative = 0;
    sample.counts.forEach((count, i) => {
      if (!(Number.isInteger(count) && count >= 0)) {
        throw new ExpositionError(
          `histogram ${family.name}${labels} has the bucket count ${count}; counts are whole and not negative`,
        );
      }
      cumulative += count;
      const le = `le="${bounds[i] as string}"`;
      const withLe = labels === "" ? `{${le}}` : `${labels.slice(0, -1)},${le}}`;
      lines.push(`${family.name}_bucket${withLe} ${formatNumber(cumulative)}`);
    });
    lines.push(`${family.name}_sum${labels} ${formatNumber(sample.sum)}`);
    lines.push(`${family.name}_count${labels} ${formatNumber(cumulative)}`);
  }
}

function checkFamily(family: MetricFamily): void {
  const { name } = family;
  if (!METRIC_NAME.test(name)) {
    throw new ExpositionError(`metric name '${name}' does not match [a-zA-Z_:][a-zA-Z0-9_:]*`);
  }
  if (family.help.trim() === "") throw new ExpositionError(`metric ${name} has no help text`);
  const stem = family.type === "counter" ? name.replace(/_total$/, "") : name;
  if (family.type === "counter" && stem === name) {
    throw new ExpositionError(`counter ${name} must end in _total`);
  }
  if (family.type !== "counter" && name.endsWith("_total")) {
    throw new ExpositionError(`${family.type} ${name} must not end in _total; only counters do`);
  }
  if (family.type !== "histogram" && HISTOGRAM_SUFFIXES.some((s) => name.endsWith(s))) {
    throw new ExpositionError(`${family.type} ${name} must not end in _bucket, _count or _sum`);
  }
  for (const [unit, base] of Object.entries(NON_BASE_UNITS)) {
    if (stem.endsWith(`_${unit}`)) {
      throw new ExpositionError(`metric ${name} uses ${unit}; expose the base unit, ${base}`);
    }
  }
  if (family.unit !== undefined && !stem.endsWith(`_${family.unit}`)) {
    throw new ExpositionError(
      `metric ${name} is in ${family.unit}; its name must end in _${family.unit}`,
    );
  }
  if (family.type === "histogram") {
    family.buckets.forEach((bound, i) => {
      const previous = family.buckets[i - 1];
      if (!Number.isFinite(bound) || (previous !== undefined && bound <= previous)) {
        throw new ExpositionError(
          `histogram ${name} buckets must be finite and strictly increasing (+Inf is added); got ${family.buckets.join(", ")}`,
        );
      }
    });
  }
}

function exposedNames(family: MetricFamily): string[] {
  if (family.type !== "histogram") return [family.name];
  return [family.name, ...HISTOGRAM_SUFFIXES.map((s) => family.name + s)];
}

/** `{a="x",b="y"}` with names sorted, or "" for no labels; refuses a label set seen before. */
function renderLabels(metric: string, labels: Labels, seen: Set<string>): string {
  const names = Object.keys(labels).sort();
  for (const label of names) {
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new ExpositionError(
        `metric ${metric} has the label name '${label}'; label names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with __`,
      );
    }
    if (label === "le" || label === "quantile") {
      throw new ExpositionError(`metric ${metric} uses the reserved label name '${label}'`);
    }
  }
  const text =
    names.length === 0
      ? ""
      : `{${names.map((n) => `${n}="${escapeLabelValue(labels[n] as string)}"`).join(",")}}`;
  if (seen.has(text)) throw new ExpositionError(`metric ${metric}${text} is listed twice`);
  seen.add(text);
  return text;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** Go's float syntax as Prometheus parses it: NaN, +Inf, -Inf, otherwise JavaScript's shortest form. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
