import { BatonError } from "../api/errors.js";

/** A host problem the user can fix (a template without a value, a host not in the inventory). */
export class HostError extends BatonError {
  override readonly name = "HostError";

  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint });
  }
}
