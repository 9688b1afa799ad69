export {
  type ApplyResult,
  Controller,
  type ControllerOptions,
  type ControllerStatus,
} from "./controller.js";
export { ControllerError } from "./errors.js";
export { EventBus } from "./event-bus.js";
export type { Reconciler } from "./reconciler.js";
export { claimState, releaseState } from "./state-claim.js";
export { WorkQueue } from "./work-queue.js";
