/** A build, push or release the user can fix: printed as `error[code] message` + hint. */
export class ImageError extends Error {
  override name = "ImageError";
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
