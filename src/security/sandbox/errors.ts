import { BatonError } from "../../api/errors.js";

/** A step that cannot be sandboxed as asked, or a state folder that cannot be made private. */
export class SandboxError extends BatonError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, { hint });
    this.name = "SandboxError";
  }
}
