/**
 * A logs request a user can fix: an unknown target, a run whose logs retention removed, or a
 * window or filter that does not parse. The same code whether the CLI reads the logs itself
 * or asks the controller (`GET /api/v1/logs`).
 */
export class LogsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "LogsError";
  }
}
