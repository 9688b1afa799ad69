/** A host problem the user can fix (a template without a value, a host not in the inventory). */
export class HostError extends Error {
  override readonly name = "HostError";

  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
