import { BatonError } from "../../api/errors.js";

/**
 * A secret that cannot be set, read or used as asked: no key for the environment, a key
 * that is not the file's, a name that is not there, a secrets file that is not one. Its
 * message names names and files, never a value.
 */
export class SecretsError extends BatonError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, { hint });
    this.name = "SecretsError";
  }
}
