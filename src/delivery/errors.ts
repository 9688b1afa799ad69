import type { ErrorBody } from "../api/error.js";
import { BatonError } from "../api/errors.js";

/**
 * A delivery problem the user can fix: a repository or branch that is not there, credentials
 * a remote refused, a cron expression that cannot fire. `hint` is a command or step that
 * shows or fixes it. Messages never hold a URL's password.
 */
export class DeliveryError extends BatonError {
  override readonly name = "DeliveryError";
  declare readonly code: DeliveryErrorCode;

  constructor(code: DeliveryErrorCode, message: string, hint?: string) {
    super(code, message, { hint });
  }

  /** The API names the area in the code, as every other code does: `delivery.repo-not-found`. */
  override toJSON(): ErrorBody {
    return { ...super.toJSON(), code: `delivery.${this.code}` };
  }
}

export type DeliveryErrorCode =
  | "repo-invalid"
  | "repo-not-found"
  | "repo-unsafe"
  | "branch-invalid"
  | "branch-not-found"
  | "commit-invalid"
  | "commit-not-found"
  | "auth-failed"
  | "remote-unreachable"
  | "git-missing"
  | "git-failed"
  | "hook-conflict"
  | "cron-invalid"
  | "pipeline-not-found"
  | "pipeline-elsewhere";
