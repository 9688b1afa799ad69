/**
 * Delivery: what runs the steps of a pipeline run. `runStep` runs one `run:` step to its end
 * (caches, attempts, JUnit, artifacts) and returns its result; `stopLeftover` ends what a step
 * started before a controller restart (recorded through StepContext.onStarted).
 */
export { collectArtifacts } from "./steps/artifacts.js";
export type { StartedCommand } from "./steps/attempt.js";
export { cacheDirOf, restoreCaches, saveCaches } from "./steps/caches.js";
export { STEP_LABEL, WORKSPACE } from "./steps/container-command.js";
export { findFiles } from "./steps/find-files.js";
export { GlobError, globMatcher } from "./steps/glob.js";
export { mergeSummaries, readJunitFile, summarizeJunit } from "./steps/junit.js";
export { stopLeftover } from "./steps/leftovers.js";
export { runStep } from "./steps/run-step.js";
export type {
  StepContext,
  StepResult,
  StepStatus,
  TestFailure,
  TestSummary,
} from "./steps/step-types.js";
