import type { Diagnostic, ErrorBody } from "../api/error.js";
import { BatonError } from "../api/errors.js";
import { formatDiagnostics } from "./format.js";
import { redactDiagnostics } from "./secret-spans.js";

/** One problem in a definition: a wire type, since the API answers it (`spec.invalid`). */
export type { Diagnostic };

export interface FormatOptions {
  /** ANSI colours (red error, bold message, cyan gutter); only for terminals. */
  color: boolean;
  /** The file's text, to show the offending line; defaults to the text that was parsed. */
  source?: string;
}

/**
 * A definition that cannot be used, with every problem found in it. Thrown by the loader
 * and never retried by the controller: only the user can fix it.
 */
export class SpecError extends BatonError {
  declare readonly code: "spec.invalid";
  readonly diagnostics: readonly Diagnostic[];
  /** Text of each file the diagnostics point into, for the source excerpt in `format`. */
  readonly #sources: ReadonlyMap<string, string>;

  constructor(
    diagnostics: readonly Diagnostic[],
    sources: ReadonlyMap<string, string> = new Map(),
  ) {
    // No secret of the file in any error (secret-spans.ts): the CLI prints these and the API
    // answers them.
    const redacted = redactDiagnostics(diagnostics, sources);
    super("spec.invalid", formatDiagnostics(redacted, { color: false, sources }));
    this.name = "SpecError";
    this.diagnostics = redacted;
    this.#sources = sources;
  }

  /** The diagnostics in the format of STYLE.md, then one summary line. */
  format(options: FormatOptions): string {
    const sources =
      options.source === undefined
        ? this.#sources
        : new Map(this.diagnostics.map((d) => [d.file, options.source ?? ""]));
    return formatDiagnostics(this.diagnostics, { color: options.color, sources });
  }

  /** For `--json` output and the API: the whole report as the message, and each problem. */
  override toJSON(): ErrorBody {
    return { code: this.code, message: this.message, diagnostics: this.diagnostics };
  }
}
