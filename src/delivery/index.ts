/**
 * delivery/: what pipelines need from git and from time — branch heads, clean checkouts,
 * the push hook, polling and cron schedules.
 */
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
export { type CronOptions, nextFire, validateCron } from "./schedule/cron.js";
export {
  type ScheduleFire,
  ScheduleWatch,
  type ScheduleWatchOptions,
} from "./schedule/schedule-watch.js";
export { realTimers, type Timers } from "./timers.js";
