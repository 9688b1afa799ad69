import type { RunRecord } from "../../store/index.js";
import { LogsError } from "./logs-error.js";

/**
 * What `baton run logs RUN` and `baton logs RUN` answer for a run whose files retention has
 * removed: one line with why, and where the definition keeps more.
 */
export function prunedRunError(run: RunRecord): LogsError {
  const why = run.pruned?.reason ? ` (${run.pruned.reason})` : "";
  return new LogsError(
    "run.pruned",
    `run ${run.id}'s logs were removed by retention${why}; change retention: under pipelines.${run.pipeline} to keep more`,
  );
}
