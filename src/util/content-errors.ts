import { BatonError } from "../api/errors.js";

/**
 * A folder or file of a definition that cannot be shipped to a controller or read back
 * there: a file that changed while it was uploaded, one too large, a blob that does not hash
 * to its name, a path the client did not send. Each says which, and what to do.
 */
export class ContentError extends BatonError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, { hint });
    this.name = "ContentError";
  }
}
