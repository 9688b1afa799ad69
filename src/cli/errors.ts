import { BatonError } from "../api/errors.js";

/** A failure the user can act on, printed as `error[code] message` + hint, exit code 1. */
export class CliError extends BatonError {
  constructor(code: string, message: string, hint?: string, exitCode = 1) {
    super(code, message, { hint, exitCode });
    this.name = "CliError";
  }
}

/** Errors of any module that a user can cause and fix: they all extend BatonError. */
export function isUserError(error: unknown): error is BatonError {
  return error instanceof BatonError;
}
