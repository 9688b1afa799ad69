export {
  ProcessDriver,
  type ProcessDriverOptions,
  type ProcessState,
} from "./process-driver.js";
export { processesUsingState, type StateUser } from "./state-users.js";
