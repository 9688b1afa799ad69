import type { ErrorBody } from "../api/error.js";
import { BatonError } from "../api/errors.js";

/**
 * What the client reports: the controller's refusal as it answered it (its code, message,
 * hint, and a definition's diagnostics), or why the controller could not be asked.
 */
export class ClientError extends BatonError {
  constructor(
    code: string,
    message: string,
    hint?: string,
    /** The API's whole error body, when the controller answered one. */
    readonly body?: ErrorBody,
  ) {
    super(code, message, { hint });
    this.name = "ClientError";
  }
}

/** What only a running controller does, asked while none runs. */
export function notRunning(stateDir: string): ClientError {
  return new ClientError(
    "controller.not_running",
    `no controller runs for ${stateDir}`,
    "start one with `baton up` (or `baton up --detach`)",
  );
}
