import { BatonError } from "../../api/errors.js";

/**
 * Problems with the metrics database or with what is written to it that a user (or a caller
 * passing user input along) can cause and fix. Each has a stable `code` and a `hint`.
 */
export type MetricsErrorCode =
  | "metrics.missing"
  | "metrics.corrupt"
  | "metrics.too_new"
  | "metrics.invalid_name"
  | "metrics.invalid_sample"
  | "metrics.invalid_retention";

export class MetricsError extends BatonError {
  override readonly name = "MetricsError";
  declare readonly code: MetricsErrorCode;
  declare readonly hint: string;

  constructor(
    code: MetricsErrorCode,
    message: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { hint, cause: options?.cause });
  }
}
