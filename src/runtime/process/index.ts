export {
  type ProcessReplicaSpec,
  ProcessRuntime,
  type ProcessRuntimeOptions,
} from "./process-runtime.js";
export { processesUsingState, type StateUser } from "./state-users.js";
