/**
 * security/sandbox: pipeline steps on the host run as an unprivileged user in a folder
 * outside every state directory, and the state directory itself stays private.
 */
export { SandboxError } from "./errors.js";
export { closeOff, makeStatePrivate } from "./private-state.js";
export { closeTree, openTreeForReading } from "./private-tree.js";
export { type HostStepUser, hostStepUser, STEP_USER, type StepIdentity } from "./step-user.js";
export {
  handOver,
  prepareWorkspaces,
  ROOT_WORKSPACES,
  runWorkspace,
  stateWorkspaces,
  takeBack,
  workspacesRoot,
} from "./workspace.js";
