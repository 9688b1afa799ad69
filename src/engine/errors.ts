import { BatonError } from "../api/errors.js";

/**
 * A plan that cannot be built from the definition: the user fixes the definition's
 * dependencies. Carries a stable `code` and a `hint`, like every error a user can cause.
 */
export type PlanErrorCode =
  | "engine.cycle"
  | "engine.missing_dependency"
  | "engine.duplicate_resource";

export class PlanError extends BatonError {
  override readonly name = "PlanError";
  declare readonly code: PlanErrorCode;
  declare readonly hint: string;

  constructor(code: PlanErrorCode, message: string, hint: string) {
    super(code, message, { hint });
  }
}
