import type { BatonClient } from "../client/client.js";
import { connect, connectRunning } from "../client/open.js";
import type { CommonOptions } from "./context.js";

/** The client of the state directory the options name: remote when a controller runs. */
export function clientFor(options: CommonOptions): BatonClient {
  return connect(connectOptions(options));
}

/** The client of the running controller; `controller.not_running` when none runs. */
export function runningClientFor(options: CommonOptions): BatonClient {
  return connectRunning(connectOptions(options));
}

function connectOptions(options: CommonOptions): { state?: string; file?: string; env?: string } {
  return {
    ...(options.state === undefined ? {} : { state: options.state }),
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
}
