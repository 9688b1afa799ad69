import { BatonError } from "../api/errors.js";

/** A build, push or release the user can fix: printed as `error[code] message` + hint. */
export class ImageError extends BatonError {
  override name = "ImageError";
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint });
  }
}
