export {
  type ApplyResult,
  Controller,
  type ControllerOptions,
  type ControllerStatus,
} from "./controller.js";
export { ControllerError } from "./errors.js";
export { EventBus } from "./event-bus.js";
export type { Reconciler } from "./reconciler.js";
export { WorkQueue } from "./work-queue.js";
