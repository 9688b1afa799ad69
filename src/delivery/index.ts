export { collectArtifacts } from "./steps/artifacts.js";
export { cacheDirOf, restoreCaches, saveCaches } from "./steps/caches.js";
export { STEP_LABEL, WORKSPACE } from "./steps/container-command.js";
export { findFiles } from "./steps/find-files.js";
export { GlobError, globMatcher } from "./steps/glob.js";
export { mergeSummaries, readJunitFile, summarizeJunit } from "./steps/junit.js";
export { runStep } from "./steps/run-step.js";
export type {
  StepContext,
  StepResult,
  StepStatus,
  TestFailure,
  TestSummary,
} from "./steps/step-types.js";
