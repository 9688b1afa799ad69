export {
  type AppsDeps,
  AppsReconciler,
  type ProxyPort,
  type ProxyRoute,
} from "./apps-reconciler.js";
export { freePort } from "./ports.js";
export { APP_KIND, desiredApps, observedApps } from "./resources.js";
export type {
  AppHistory,
  RolloutRecord,
  RolloutState,
  RolloutStatus,
  RolloutStep,
  RolloutTrigger,
} from "./rollout-types.js";
export { FINISHED_ROLLOUT_STATES } from "./rollout-types.js";
export type { AppStatus, ReplicaStateName, ReplicaStatus } from "./status.js";
