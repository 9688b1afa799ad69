export {
  ProcessDriver,
  type ProcessDriverOptions,
  type ProcessState,
} from "./process-driver.js";
export { type RunAs, runAsArgv, runAsOf } from "./run-as.js";
export { processesUsingState, type StateUser } from "./state-users.js";
