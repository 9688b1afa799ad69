/**
 * A delivery problem the user can fix: a repository or branch that is not there, credentials
 * a remote refused, a cron expression that cannot fire. `hint` is a command or step that
 * shows or fixes it. Messages never hold a URL's password.
 */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";

  constructor(
    readonly code: DeliveryErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
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
