import { BatonError } from "../api/errors.js";

/** Errors a user can cause at the controller's level, with a stable code and a fix. */
export class ControllerError extends BatonError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint });
    this.name = "ControllerError";
  }
}
