/** One cumulative bucket of a histogram: how many observations were at most `upper`. */
export interface Bucket {
  readonly upper: number;
  readonly count: number;
}

/**
 * The φ-quantile of observations counted by cumulative buckets, as Prometheus'
 * histogram_quantile computes it: linear within the bucket the rank falls in, the lowest
 * bucket starting at 0, a rank in the +Inf bucket answering the highest finite bound. NaN
 * when it cannot be told (no +Inf bucket, fewer than two buckets, nothing observed); φ
 * outside [0, 1] gives ∓Infinity. Counts that decrease with the bound (a scrape between two
 * bucket updates) are raised to the previous count first, as Prometheus does.
 */
export function bucketQuantile(phi: number, buckets: readonly Bucket[]): number {
  if (Number.isNaN(phi)) return Number.NaN;
  if (phi < 0) return Number.NEGATIVE_INFINITY;
  if (phi > 1) return Number.POSITIVE_INFINITY;
  const sorted = coalesce([...buckets].sort((a, b) => a.upper - b.upper));
  const last = sorted.at(-1);
  if (last === undefined || last.upper !== Number.POSITIVE_INFINITY || sorted.length < 2) {
    return Number.NaN;
  }
  const total = last.count;
  if (!(total > 0)) return Number.NaN;
  const rank = phi * total;
  const b = sorted.findIndex((bucket) => bucket.count >= rank);
  if (b === sorted.length - 1) return (sorted[b - 1] as Bucket).upper;
  const bucket = sorted[b] as Bucket;
  if (b === 0 && bucket.upper <= 0) return bucket.upper;
  const below = b === 0 ? { upper: 0, count: 0 } : (sorted[b - 1] as Bucket);
  const inBucket = bucket.count - below.count;
  if (inBucket <= 0) return bucket.upper;
  return below.upper + (bucket.upper - below.upper) * ((rank - below.count) / inBucket);
}

/** Merges buckets of one bound (summing) and makes the counts non-decreasing. */
function coalesce(sorted: readonly Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  for (const bucket of sorted) {
    const previous = out.at(-1);
    if (previous !== undefined && previous.upper === bucket.upper) {
      out[out.length - 1] = { upper: bucket.upper, count: previous.count + bucket.count };
    } else {
      out.push(bucket);
    }
  }
  let max = Number.NEGATIVE_INFINITY;
  return out.map((bucket) => {
    max = Math.max(max, bucket.count);
    return { upper: bucket.upper, count: max };
  });
}
