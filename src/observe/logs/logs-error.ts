import { BatonError } from "../../api/errors.js";
/**
 * A logs request a user can fix: an unknown target, a run whose logs retention removed, or a
 * window or filter that does not parse. The same code whether the CLI reads the logs itself
 * or asks the controller (`GET /api/v1/logs`).
 */
export class LogsError extends BatonError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint });
    this.name = "LogsError";
  }
}
