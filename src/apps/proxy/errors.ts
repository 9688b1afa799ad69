import { BatonError } from "../../api/errors.js";

/**
 * Errors of the proxy that a caller can cause or must handle. Each has a stable `code`
 * (the same string travels in the control API's `{ error: { code, message } }`).
 */
export type ProxyErrorCode =
  | "proxy.port_in_use"
  | "proxy.port_denied"
  | "proxy.invalid_route"
  | "proxy.invalid_request"
  | "proxy.unknown_route"
  | "proxy.not_found"
  | "proxy.start_failed"
  | "proxy.unreachable"
  | "proxy.stop_timeout"
  | "proxy.internal";

export class ProxyError extends BatonError {
  override readonly name = "ProxyError";
  declare readonly code: ProxyErrorCode;

  constructor(
    code: ProxyErrorCode,
    message: string,
    /** HTTP status the proxy's own control API answers with for this error. */
    readonly status = 500,
    options?: { cause?: unknown },
  ) {
    super(code, message, { cause: options?.cause });
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set<ProxyErrorCode>([
  "proxy.port_in_use",
  "proxy.port_denied",
  "proxy.invalid_route",
  "proxy.invalid_request",
  "proxy.unknown_route",
  "proxy.not_found",
  "proxy.start_failed",
  "proxy.unreachable",
  "proxy.stop_timeout",
  "proxy.internal",
]);

export function isProxyErrorCode(value: unknown): value is ProxyErrorCode {
  return typeof value === "string" && KNOWN_CODES.has(value);
}
