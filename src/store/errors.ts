import { BatonError } from "../api/errors.js";

/**
 * Problems with the state directory that a user can cause and fix: a missing, damaged or
 * too-new database. Each carries a stable `code` (scripts and tests match on it) and a
 * `hint` saying what to do. Anything else that goes wrong in the store is a bug and is
 * thrown as it comes.
 */
export type StateErrorCode = "state.missing" | "state.corrupt" | "state.too_new";

export class StateError extends BatonError {
  override readonly name = "StateError";
  declare readonly hint: string;

  constructor(code: StateErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, { hint, cause: options?.cause });
  }
}
