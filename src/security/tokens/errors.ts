import { BatonError, type BatonErrorOptions } from "../../api/errors.js";

/** A token refused (401, 403) or a token command a user got wrong. */
export class AccessError extends BatonError {
  constructor(code: string, message: string, options?: BatonErrorOptions) {
    super(code, message, options);
    this.name = "AccessError";
  }
}
