/**
 * A plan that cannot be built from the definition: the user fixes the definition's
 * dependencies. Carries a stable `code` and a `hint`, like every error a user can cause.
 */
export type PlanErrorCode =
  | "engine.cycle"
  | "engine.missing_dependency"
  | "engine.duplicate_resource";

export class PlanError extends Error {
  override readonly name = "PlanError";
  readonly code: PlanErrorCode;
  readonly hint: string;

  constructor(code: PlanErrorCode, message: string, hint: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }

  toJSON(): { code: string; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}
