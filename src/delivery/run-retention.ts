/**
 * Which finished runs of a pipeline lose their files (`runs/<id>/`) to retention, as
 * Jenkins' build discarder and Kubernetes' job history limits do: a run that is not among
 * the newest `runs` finished runs, or that ended longer than `maxAge` ago. Only finished
 * runs are weighed; their records stay in the store, marked, for the history.
 */
import type { PipelineRetention } from "../definition/index.js";
import { formatDuration, PIPELINE_DEFAULTS, parseAge, parseSize } from "../definition/index.js";
import type { FinishedRun } from "../store/index.js";

export type RunLimits = Pick<PipelineRetention, "runs" | "maxAgeMs">;

/** A run whose files go, and why in words (kept with its record for `baton run logs`). */
export interface PrunableRun {
  readonly id: number;
  readonly reason: string;
}

/** What a pipeline the definition no longer declares keeps: the definition's defaults. */
export const DEFAULT_RETENTION: PipelineRetention = {
  runs: PIPELINE_DEFAULTS.retention.runs,
  maxAgeMs: parseAge(PIPELINE_DEFAULTS.retention.maxAge) ?? 0,
  maxLogBytes: parseSize(PIPELINE_DEFAULTS.retention.maxLogSize) ?? 0,
};

const DAY_MS = 86_400_000;

/**
 * The runs of `finished` (one pipeline's finished runs, in any order) whose files go at
 * `now`. The newest are those with the highest ids: the order runs were started in, which
 * is the order `baton runs` shows. Runs already pruned count towards the newest N but are
 * not returned again.
 */
export function prunableRuns(
  pipeline: string,
  finished: readonly FinishedRun[],
  limits: RunLimits,
  now: number,
): PrunableRun[] {
  const newestFirst = [...finished].sort((a, b) => b.id - a.id);
  const prunable: PrunableRun[] = [];
  newestFirst.forEach((run, rank) => {
    if (run.pruned) return;
    const reasons: string[] = [];
    if (now - run.finishedAt > limits.maxAgeMs)
      reasons.push(`older than ${formatAge(limits.maxAgeMs)}`);
    if (rank >= limits.runs) reasons.push(`pipeline ${pipeline} keeps ${limits.runs} runs`);
    if (reasons.length > 0) prunable.push({ id: run.id, reason: reasons.join(", ") });
  });
  return prunable.sort((a, b) => a.id - b.id);
}

/** `30d`, `1d12h`, `36m`: days where the age has whole days, as retention is written. */
export function formatAge(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const rest = ms - days * DAY_MS;
  if (days === 0) return formatDuration(ms);
  return rest === 0 ? `${days}d` : `${days}d${formatDuration(rest)}`;
}
