/** A failure the user can act on, printed as `error[code] message` + hint, exit code 1. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Errors of any module that a user can cause and fix; they all carry a code and a hint. */
const USER_ERRORS = new Set([
  "CliError",
  "ControllerError",
  "StateError",
  "ProxyError",
  "PlanError",
  "ImageError",
  "TransportError",
  "HostError",
  "DeliveryError",
  "ContentError",
]);

export function isUserError(
  error: unknown,
): error is Error & { code: string; hint?: string; exitCode?: number } {
  return (
    error instanceof Error &&
    USER_ERRORS.has(error.name) &&
    typeof (error as { code?: unknown }).code === "string"
  );
}
