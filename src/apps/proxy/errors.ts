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

export class ProxyError extends Error {
  override readonly name = "ProxyError";

  constructor(
    readonly code: ProxyErrorCode,
    message: string,
    /** HTTP status the control API answers with for this error. */
    readonly status = 500,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { error: { code: ProxyErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
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
