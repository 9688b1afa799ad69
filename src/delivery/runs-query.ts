/**
 * `baton runs` and `GET /api/v1/runs[/ID]`: pipeline runs with their steps, read from the
 * store by one function whether a controller answers or the CLI reads the state itself.
 */
import type { RunAnswer, RunsAnswer } from "../api/runs.js";
import type { RunStore } from "../store/index.js";

/** One run with its steps: `GET /api/v1/runs/:id`. */
export type RunWithSteps = RunAnswer;
export type { RunsAnswer };

type RunReader = Pick<RunStore, "list" | "get" | "steps">;

/** The newest `limit` runs (of one pipeline, or of all), newest first. */
export function listRuns(runs: RunReader, pipeline: string | undefined, limit: number): RunsAnswer {
  return { runs: runs.list(pipeline, limit).map((run) => ({ run, steps: runs.steps(run.id) })) };
}

/** One run with its steps; undefined when there is no such run. */
export function runWithSteps(runs: RunReader, id: number): RunWithSteps | undefined {
  const run = runs.get(id);
  return run === undefined ? undefined : { run, steps: runs.steps(id) };
}
