import type { Sample } from "../series.js";

/** The downsampling resolution: raw samples past the raw retention become one bucket a minute. */
export const BUCKET_MS = 60_000;

export type SeriesKind = "gauge" | "counter";

/**
 * One series' minute, summarised so that averages (sum / count), extremes (min, max), the
 * newest value (last) and counter rates (increase) all stay right. NaN values are left out of
 * every figure; a minute of only NaN has count 0.
 */
export interface MinuteBucket {
  /** Start of the minute, ms. */
  readonly start: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly count: number;
  readonly last: number;
  /**
   * How much the series grew, read as a counter, from the sample before this minute to `last`:
   * a drop counts as a reset (the new value is the growth), as Prometheus' rate() counts it.
   */
  readonly increase: number;
  /** A reset happened in the minute or at its start: `last - previous last` is not the increase. */
  readonly reset: boolean;
}

export function bucketStart(at: number): number {
  return Math.floor(at / BUCKET_MS) * BUCKET_MS;
}

/**
 * Summarises one minute of samples (oldest first). `previous` is the series' last value
 * before the minute, when there is one; the counter increase runs from it.
 */
export function summarizeMinute(
  start: number,
  samples: readonly Sample[],
  previous: number | undefined,
): MinuteBucket {
  let min = Number.NaN;
  let max = Number.NaN;
  let sum = 0;
  let count = 0;
  let increase = 0;
  let reset = false;
  let prev = previous;
  for (const { value } of samples) {
    if (Number.isNaN(value)) continue;
    if (count === 0) {
      min = value;
      max = value;
    } else {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    sum += value;
    count++;
    if (prev !== undefined) {
      if (value >= prev) increase += value - prev;
      else {
        increase += value;
        reset = true;
      }
    }
    prev = value;
  }
  return {
    start,
    min,
    max,
    sum: count === 0 ? Number.NaN : sum,
    count,
    last: count === 0 ? Number.NaN : (prev as number),
    increase,
    reset,
  };
}

/**
 * Folds samples that arrived after their minute was already summarised into its bucket. They
 * are older than the ones summarised, so `last` and the counter figures stay as they were.
 */
export function mergeMinute(existing: MinuteBucket, late: MinuteBucket): MinuteBucket {
  if (late.count === 0) return existing;
  if (existing.count === 0) return { ...late, increase: existing.increase, reset: existing.reset };
  return {
    ...existing,
    min: Math.min(existing.min, late.min),
    max: Math.max(existing.max, late.max),
    sum: existing.sum + late.sum,
    count: existing.count + late.count,
  };
}

/**
 * What a reader sees of a run of buckets (oldest first): the average per minute for a gauge;
 * for a counter, its last value per minute, and where a minute held a reset, two more points
 * just before it (up by the growth before the reset, then down to 0) so that rate() and
 * increase() over the result count exactly the growth the raw samples had.
 */
export function bucketSamples(buckets: readonly MinuteBucket[], kind: SeriesKind): Sample[] {
  const out: Sample[] = [];
  if (kind === "gauge") {
    for (const b of buckets) {
      out.push({ at: b.start, value: b.count === 0 ? Number.NaN : b.sum / b.count });
    }
    return out;
  }
  let prev: number | undefined;
  for (const b of buckets) {
    if (b.count === 0) continue;
    if (b.reset && prev !== undefined) {
      out.push({ at: b.start - 2, value: prev + b.increase - b.last });
      out.push({ at: b.start - 1, value: 0 });
    }
    out.push({ at: b.start, value: b.last });
    prev = b.last;
  }
  return out;
}
