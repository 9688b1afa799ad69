/**
 * The git hooks a caller installs in its own repositories: on a push they tell the controller
 * of a state directory about it (through `baton hooks notify`, a client call).
 */
export { isRemoteRepo } from "../delivery/git/source-location.js";
export { hookScript } from "../delivery/hooks/hook-script.js";
export { installHook, uninstallHook } from "../delivery/hooks/install-hook.js";
