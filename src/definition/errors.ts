import { formatDiagnostics, summaryLine } from "./format.js";

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
export class SpecError extends Error {
  readonly code = "spec";
  readonly diagnostics: readonly Diagnostic[];
  /** Text of each file the diagnostics point into, for the source excerpt in `format`. */
  readonly #sources: ReadonlyMap<string, string>;

  constructor(
    diagnostics: readonly Diagnostic[],
    sources: ReadonlyMap<string, string> = new Map(),
  ) {
    super(formatDiagnostics(diagnostics, { color: false, sources }));
    this.name = "SpecError";
    this.diagnostics = diagnostics;
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

  /** For `--json` output and the API. */
  toJSON(): { code: "spec"; message: string; diagnostics: readonly Diagnostic[] } {
    return {
      code: this.code,
      message: summaryLine(this.diagnostics),
      diagnostics: this.diagnostics,
    };
  }
}
