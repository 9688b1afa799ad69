/** Errors a user can cause at the controller's level, with a stable code and a fix. */
export class ControllerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ControllerError";
  }
}
