/**
 * Problems with the state directory that a user can cause and fix: a missing, damaged or
 * too-new database. Each carries a stable `code` (scripts and tests match on it) and a
 * `hint` saying what to do. Anything else that goes wrong in the store is a bug and is
 * thrown as it comes.
 */
export type StateErrorCode = "state.missing" | "state.corrupt" | "state.too_new";

export class StateError extends Error {
  override readonly name = "StateError";
  readonly code: string;
  readonly hint: string;

  constructor(code: StateErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.hint = hint;
  }

  toJSON(): { code: string; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}
