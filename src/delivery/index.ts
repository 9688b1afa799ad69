/**
 * delivery/: pipelines from git to production — branch heads, clean checkouts, the push hook,
 * polling and cron schedules; the step runner (commands, caches, JUnit, artifacts); the
 * order of a run's steps and the runner that takes a run from queued to its end.
 */
export { DeliveryService, type DeliveryServiceOptions } from "./delivery-service.js";
export { DeliveryError, type DeliveryErrorCode } from "./errors.js";
export {
  type BranchMoved,
  BranchPoller,
  type BranchPollerOptions,
  type WatchOptions,
} from "./git/branch-poller.js";
export { checkout } from "./git/checkout.js";
export { commitsSince, isAncestor } from "./git/history.js";
export { redactUrl } from "./git/redact.js";
export { type BranchHead, type ResolveOptions, resolveBranch } from "./git/resolve-branch.js";
export { resolveRef } from "./git/resolve-ref.js";
export { isRemoteRepo, mirrorDirFor } from "./git/source-location.js";
export {
  HOOK_LOG_NAME,
  HOOK_MARKER,
  type HookScriptOptions,
  hookScript,
  PREVIOUS_HOOK_NAME,
} from "./hooks/hook-script.js";
export {
  type HookInstallOutcome,
  type HookUninstallOutcome,
  hooksDirOf,
  installHook,
  uninstallHook,
} from "./hooks/install-hook.js";
export { type PushNotice, pushMatches } from "./hooks/push-match.js";
export {
  type BuildRequest,
  type DeployRequest,
  PipelineRunner,
  type PipelineRunnerOptions,
  type ReleaseActions,
} from "./pipeline-runner.js";
export {
  type PrunedRun,
  RetentionSweep,
  type RetentionSweepOptions,
} from "./retention-sweep.js";
export { executeRunGraph, type RunOutcome, type StepOutcome } from "./run-graph.js";
export { cacheDirectory, runDirectory, runsDirectory, stepLogFile } from "./run-paths.js";
export {
  DEFAULT_RETENTION,
  formatAge,
  type PrunableRun,
  prunableRuns,
  type RunLimits,
} from "./run-retention.js";
export { type CronOptions, nextFire, validateCron } from "./schedule/cron.js";
export {
  type ScheduleFire,
  ScheduleWatch,
  type ScheduleWatchOptions,
} from "./schedule/schedule-watch.js";
export { collectArtifacts } from "./steps/artifacts.js";
export type { StartedCommand } from "./steps/attempt.js";
export { cacheDirOf, restoreCaches, saveCaches } from "./steps/caches.js";
export { CappedLog, formatSize } from "./steps/capped-log.js";
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
export { type ActiveRun, supersededRuns } from "./supersede.js";
export { realTimers, type Timers } from "./timers.js";
