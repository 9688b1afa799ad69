/**
 * Baton's client: the one door into a state directory's controller, for the CLI, the
 * dashboard and scripts (`import { connect } from "baton"`). Types of every answer are the
 * API's (src/api).
 */
export type * from "../api/index.js";
export { BatonError, FINISHED_ROLLOUT_STATES } from "../api/index.js";
export type {
  Actor,
  ApplyOptions,
  BatonClient,
  BuildOptions,
  BuiltRelease,
  DefinitionSource,
  DownAnswer,
  EventsOptions,
} from "./client.js";
export { ClientError } from "./errors.js";
export { ExprError, parseExpr } from "./expr.js";
export { hookScript, installHook, isRemoteRepo, uninstallHook } from "./hooks.js";
export { LocalClient } from "./local.js";
export {
  type ConnectOptions,
  connect,
  connectRunning,
  recordedEnvironment,
  stateDirOf,
} from "./open.js";
export { parseRecordJson, recordJson, releaseJson } from "./records.js";
export { RemoteClient } from "./remote.js";
