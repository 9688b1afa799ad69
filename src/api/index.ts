/**
 * The wire contract of the controller's API: what every request and answer carries, the one
 * base of errors a user can cause, and which HTTP status each error code gets. Depends on
 * nothing else of Baton's, so a client (the CLI, a dashboard, an SDK) needs nothing more.
 */
export type { Diagnostic, ErrorAnswer, ErrorBody } from "./error.js";
export { BatonError, type BatonErrorOptions } from "./errors.js";
export { httpStatusOf } from "./status-codes.js";
