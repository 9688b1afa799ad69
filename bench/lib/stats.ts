/** Small statistics for repeated benchmark runs: a few samples, never a distribution. */

export interface Summary {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("summarize: no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number, samples };
}

/** a / b of the medians, or NaN when b is 0. */
export function ratio(a: Summary, b: Summary): number {
  return b.median === 0 ? Number.NaN : a.median / b.median;
}

/** Rounds for display: 3 significant decimals below 10, fewer above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 3;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** "median (min–max)" with a fixed number of decimals, for tables. */
export function spread(s: Summary, digits = 0): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}
