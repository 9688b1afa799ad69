/**
 * Where a run's files live in the state directory: `runs/<id>/checkout` (its clean checkout),
 * `runs/<id>/logs/<step>.log` (each command step's output), `runs/<id>/artifacts/<step>/`;
 * `cache/<pipeline>/<key>` for caches kept between runs, `mirrors/` for remote repositories.
 */
import { join } from "node:path";

export function runsDirectory(stateDir: string): string {
  return join(stateDir, "runs");
}

export function cacheDirectory(stateDir: string): string {
  return join(stateDir, "cache");
}

export function runDirectory(runsDir: string, runId: number): string {
  return join(runsDir, String(runId));
}

export function stepLogFile(runsDir: string, runId: number, step: string): string {
  return join(runDirectory(runsDir, runId), "logs", `${step}.log`);
}

export function mirrorDirectory(stateDir: string): string {
  return join(stateDir, "mirrors");
}
