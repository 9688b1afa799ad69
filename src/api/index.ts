/**
 * The wire contract of the controller's API: what every request and answer carries, the one
 * base of errors a user can cause, and which HTTP status each error code gets. Depends on
 * nothing else of Baton's, so a client (the CLI, a dashboard, an SDK) needs nothing more.
 */
export type * from "./alerts.js";
export type * from "./apply.js";
export type * from "./error.js";
export { BatonError, type BatonErrorOptions, errorBodyOf } from "./errors.js";
export type * from "./events.js";
export type * from "./history.js";
export { FINISHED_ROLLOUT_STATES } from "./history.js";
export type * from "./hosts.js";
export type * from "./logs.js";
export type * from "./metrics.js";
export type * from "./plan.js";
export type * from "./releases.js";
export {
  type AnswerOf,
  answer,
  type Method,
  type Route,
  routes,
  type StreamRoute,
} from "./routes.js";
export type * from "./runs.js";
export type * from "./status.js";
export { httpStatusOf } from "./status-codes.js";
export type * from "./tokens.js";
