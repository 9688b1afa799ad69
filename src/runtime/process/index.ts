export {
  type ProcessReplicaSpec,
  ProcessRuntime,
  type ProcessRuntimeOptions,
} from "./process-runtime.js";
