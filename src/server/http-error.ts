import { BatonError, type BatonErrorOptions } from "../api/errors.js";

/**
 * A request the API refuses by itself (a bad path, body or parameter, a missing token): its
 * HTTP status comes from its code, through `api/status-codes.ts`, like every other error's.
 */
export class HttpError extends BatonError {
  constructor(code: string, message: string, options?: BatonErrorOptions) {
    super(code, message, options);
    this.name = "HttpError";
  }
}
