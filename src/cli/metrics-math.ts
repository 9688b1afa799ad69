/**
 * What `baton metrics` and `baton top` compute from the series the API answers: counter
 * rates (a drop is a reset, as Prometheus reads it) and quantiles of a cumulative histogram
 * (linear within a bucket, as histogram_quantile does).
 */

import { bucketQuantile } from "../util/bucket-quantile.js";

/** [ms, value], oldest first. */
export type Point = readonly [number, number];

export interface SeriesJson {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly Point[];
}

export interface MetricsJson {
  readonly name: string;
  readonly kind: string;
  readonly help: string;
  readonly unit: string;
  readonly series: readonly SeriesJson[];
}

/** How much a counter grew between two samples; a drop means it restarted from zero. */
export function counterIncrease(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/** Per-second rate between each sample and the one before it (the first has none). */
export function ratesOf(samples: readonly Point[]): (number | undefined)[] {
  return samples.map((point, i) => {
    const previous = samples[i - 1];
    if (previous === undefined || point[0] <= previous[0]) return undefined;
    return counterIncrease(previous[1], point[1]) / ((point[0] - previous[0]) / 1000);
  });
}

/** Growth of a counter over all its samples, resets counted. */
export function increaseOf(samples: readonly Point[]): number {
  let total = 0;
  for (let i = 1; i < samples.length; i++) {
    total += counterIncrease((samples[i - 1] as Point)[1], (samples[i] as Point)[1]);
  }
  return total;
}

/** Per-second rate over the whole window, or undefined with fewer than two samples. */
export function windowRate(samples: readonly Point[]): number | undefined {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || last[0] <= first[0]) return undefined;
  return increaseOf(samples) / ((last[0] - first[0]) / 1000);
}

/**
 * The q-quantile (0..1) of observations counted by cumulative buckets: `increases` maps each
 * upper bound (Infinity included) to how many observations it counted in the window.
 * Undefined when nothing was observed.
 */
export function histogramQuantile(
  q: number,
  increases: ReadonlyMap<number, number>,
): number | undefined {
  const buckets = [...increases].map(([upper, count]) => ({ upper, count }));
  const value = bucketQuantile(q, buckets);
  return Number.isNaN(value) ? undefined : value;
}

/** Each series' value, grouped by its label `key` (per app, per host). */
export function groupBy<T>(
  series: readonly SeriesJson[],
  key: string,
  value: (s: SeriesJson) => T | undefined,
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const s of series) {
    const v = value(s);
    if (v === undefined) continue;
    const group = s.labels[key] ?? "";
    const list = groups.get(group) ?? [];
    list.push(v);
    groups.set(group, list);
  }
  return groups;
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
