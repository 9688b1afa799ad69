/**
 * The metrics store's newest samples as Prometheus metric families (the body of
 * `GET /metrics`). The store keeps a histogram as three cumulative counters, `NAME_bucket{le}`,
 * `NAME_sum` and `NAME_count`; they are put back together here, bucket counts turned from
 * cumulative into per-bucket as renderExposition takes them.
 */
import {
  type BaseUnit,
  type HistogramSample,
  type MetricFamily,
  renderExposition,
  type ValueSample,
} from "./exposition.js";
import type { MetricsStore, SeriesDeclaration } from "./metrics/index.js";
import type { Labels, Series } from "./series.js";

const BASE_UNITS = new Set<string>(["seconds", "bytes", "ratio"]);

/**
 * The text of `GET /metrics`: familiesFromStore() rendered family by family, so that one
 * the exposition refuses (a name written by something that did not declare it well) costs
 * only itself, never the whole scrape.
 */
export function renderStoreExposition(store: MetricsStore, since: number): string {
  let text = "";
  for (const family of familiesFromStore(store, since)) {
    try {
      text += renderExposition([family]);
    } catch {
      // Left out; `baton metrics NAME` still shows its samples.
    }
  }
  return text;
}

/**
 * One family per declared metric that has a series sampled at or after `since` (ms): a
 * replica gone for longer is no longer current and is left out. Undeclared names are
 * exposed as gauges.
 */
export function familiesFromStore(store: MetricsStore, since: number): MetricFamily[] {
  const declared = new Map(store.declarations().map((d) => [d.name, d]));
  const histograms = new Set<string>();
  for (const name of declared.keys()) {
    const base = name.endsWith("_bucket") ? name.slice(0, -"_bucket".length) : undefined;
    if (base !== undefined && declared.has(`${base}_sum`) && declared.has(`${base}_count`)) {
      histograms.add(base);
    }
  }
  const families: MetricFamily[] = [];
  for (const name of store.names()) {
    const part = /^(.*)_(bucket|sum|count)$/.exec(name);
    if (part?.[1] !== undefined && histograms.has(part[1])) {
      if (part[2] === "bucket") {
        const family = histogramFamily(store, part[1], declared.get(name), since);
        if (family !== undefined) families.push(family);
      }
      continue;
    }
    const series = store.latest({ name, matchers: [] }, since);
    if (series.length === 0) continue;
    families.push(valueFamily(name, declared.get(name), series));
  }
  return families;
}

function valueFamily(
  name: string,
  declaration: SeriesDeclaration | undefined,
  series: readonly Series[],
): MetricFamily {
  // A counter must end in _total to be exposed as one; anything else reads as a gauge, but
  // an undeclared `_total` can only be a counter.
  const counter =
    name.endsWith("_total") && (declaration === undefined || declaration.kind === "counter");
  const samples: ValueSample[] = series.map((s) => ({
    labels: s.labels,
    value: s.samples[0]?.value ?? Number.NaN,
  }));
  return {
    name,
    type: counter ? "counter" : "gauge",
    help: declaration?.help || `${name} (undeclared)`,
    ...unitOf(name, declaration),
    samples: counter ? samples.filter((s) => s.value >= 0) : samples,
  };
}

function histogramFamily(
  store: MetricsStore,
  base: string,
  declaration: SeriesDeclaration | undefined,
  since: number,
): MetricFamily | undefined {
  const buckets = store.latest({ name: `${base}_bucket`, matchers: [] }, since);
  const sums = new Map(
    store
      .latest({ name: `${base}_sum`, matchers: [] }, since)
      .map((s) => [labelKey(s.labels), s.samples[0]?.value ?? 0]),
  );
  // label set (without le) → upper bound → cumulative count
  const byLabels = new Map<string, { labels: Labels; cumulative: Map<number, number> }>();
  for (const s of buckets) {
    const { le, ...labels } = s.labels;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    if (le === undefined || Number.isNaN(bound)) continue;
    const key = labelKey(labels);
    let entry = byLabels.get(key);
    if (entry === undefined) {
      entry = { labels, cumulative: new Map() };
      byLabels.set(key, entry);
    }
    entry.cumulative.set(bound, s.samples[0]?.value ?? 0);
  }
  let bounds: number[] | undefined;
  const samples: HistogramSample[] = [];
  for (const [key, entry] of byLabels) {
    const finite = [...entry.cumulative.keys()].filter(Number.isFinite).sort((a, b) => a - b);
    const total = entry.cumulative.get(Number.POSITIVE_INFINITY);
    if (total === undefined) continue;
    // One family has one set of bounds: a series sampled with others (the proxy changed
    // them) waits until its newest samples agree.
    bounds ??= finite;
    if (finite.length !== bounds.length || finite.some((b, i) => b !== bounds?.[i])) continue;
    const counts: number[] = [];
    let previous = 0;
    for (const bound of [...finite, Number.POSITIVE_INFINITY]) {
      const cumulative =
        bound === Number.POSITIVE_INFINITY ? total : (entry.cumulative.get(bound) ?? 0);
      counts.push(Math.max(0, Math.round(cumulative - previous)));
      previous = Math.max(previous, cumulative);
    }
    samples.push({ labels: entry.labels, counts, sum: sums.get(key) ?? 0 });
  }
  if (bounds === undefined || samples.length === 0) return undefined;
  return {
    name: base,
    type: "histogram",
    help: declaration?.help || `${base} (undeclared)`,
    ...unitOf(base, declaration),
    buckets: bounds,
    samples,
  };
}

/** The declared unit, when the name carries it as the exposition requires. */
function unitOf(name: string, declaration: SeriesDeclaration | undefined): { unit?: BaseUnit } {
  const unit = declaration?.unit ?? "";
  const stem = name.replace(/_total$/, "");
  return BASE_UNITS.has(unit) && stem.endsWith(`_${unit}`) ? { unit: unit as BaseUnit } : {};
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join("\0");
}
