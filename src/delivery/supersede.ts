/**
 * Which runs a newer commit makes pointless: the older runs of the same pipeline and branch
 * that are queued, or running but not yet deploying — a run that has started to deploy or
 * promote is left to finish, so no environment is left half-way between two releases.
 */
import type { RunRecord, StepRecord } from "../store/index.js";

const RELEASING = new Set<StepRecord["kind"]>(["deploy", "promote"]);
const NOT_STARTED = new Set<StepRecord["state"]>(["pending", "skipped"]);

export interface ActiveRun {
  readonly run: RunRecord;
  readonly steps: readonly StepRecord[];
}

/** The ids of the runs `newer` supersedes, oldest first; none unless `cancelSuperseded`. */
export function supersededRuns(
  newer: RunRecord,
  active: readonly ActiveRun[],
  cancelSuperseded: boolean,
): number[] {
  if (!cancelSuperseded) return [];
  return active
    .filter(
      ({ run, steps }) =>
        run.id < newer.id &&
        run.pipeline === newer.pipeline &&
        run.branch === newer.branch &&
        (run.state === "queued" ||
          (run.state === "running" &&
            steps.every((s) => !RELEASING.has(s.kind) || NOT_STARTED.has(s.state)))),
    )
    .map(({ run }) => run.id)
    .sort((a, b) => a - b);
}
