/**
 * The error body of every answer other than 2xx: `{error: {code, message, hint?, …}}`, its
 * HTTP status from `status-codes.ts`. `code` is stable (scripts match on it); the message
 * names what was expected and what was found; the hint says how to fix it.
 */

/**
 * One problem in a definition, with everything a user needs to fix it without reading our
 * code: where (file, line, column, span), which field (path), what was expected and found,
 * and a hint. `code` is stable: scripts and docs may rely on it.
 */
export interface Diagnostic {
  /** Stable identifier, e.g. "spec.invalid_type", "spec.unknown_key", "spec.port_conflict". */
  code: string;
  /** One sentence naming the field, e.g. `apps.web.replicas must be …, found …`. */
  message: string;
  /** The definition file as the user gave it (relative to the working directory when possible). */
  file: string;
  /** 1-based; 0 when the problem has no position (e.g. the file does not exist). */
  line: number;
  /** 1-based; 0 when the problem has no position. */
  col: number;
  /** Characters to underline from `col` (at least 1 when there is a position). */
  length: number;
  /** Field path such as "apps.web.replicas" or "apps.web.command[1]"; "" for the whole file. */
  path: string;
  expected?: string;
  found?: string;
  /** What to do about it, e.g. "write `replicas: 3`". */
  hint?: string;
}

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  /** Where the problem is, when it is in a file the user wrote. */
  readonly file?: string;
  /** 1-based, in `file` (or in the expression, for `expr.*`). */
  readonly line?: number;
  readonly column?: number;
  /** The field path, e.g. `apps.web.replicas`. */
  readonly field?: string;
  /** `spec.invalid`: every problem found in the definition. */
  readonly diagnostics?: readonly Diagnostic[];
  /** `expr.*`: what the parser expected and what it found. */
  readonly expected?: string;
  readonly found?: string;
}

/** Every answer other than 2xx. */
export interface ErrorAnswer {
  readonly error: ErrorBody;
}
