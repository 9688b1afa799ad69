export interface BackoffPolicy {
  /** The wait after the first failure. */
  readonly baseMs: number;
  /** No wait is longer than this, however many failures. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 5 * 60_000 };

/**
 * The wait before attempt `failures + 1`: doubling from `baseMs`, capped at `maxMs`, then
 * jittered into [half, whole] so receivers that failed together do not retry together.
 */
export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const full = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(full / 2 + (random() * full) / 2);
}
