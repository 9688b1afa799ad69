import type { ErrorBody } from "../../api/error.js";
import { BatonError } from "../../api/errors.js";

/**
 * A problem in an alert expression the user wrote. It says where (offset, and line/column
 * within the expression, 1-based), what the parser expected, what it found, and how to fix
 * it. The definition loader adds the line:col of the `expr:` value to place it in the file.
 */
export type ExprErrorCode =
  | "expr.syntax"
  | "expr.unsupported"
  | "expr.type"
  | "expr.regex"
  | "expr.unknown_metric";

export interface ExprErrorDetails {
  readonly offset: number;
  readonly expected: string;
  readonly found: string;
  readonly hint: string;
}

export class ExprError extends BatonError {
  override readonly name = "ExprError";
  declare readonly code: ExprErrorCode;
  /** 0-based index into the expression text. */
  readonly offset: number;
  /** 1-based line and column of `offset` within the expression (expressions may span lines). */
  declare readonly line: number;
  declare readonly column: number;
  readonly expected: string;
  readonly found: string;
  declare readonly hint: string;

  constructor(code: ExprErrorCode, text: string, details: ExprErrorDetails) {
    const { line, column } = lineColumn(text, details.offset);
    super(
      code,
      `column ${column}${line > 1 ? ` of line ${line}` : ""}: expected ${details.expected}, found ${details.found}`,
      { hint: details.hint, line, column },
    );
    this.offset = details.offset;
    this.expected = details.expected;
    this.found = details.found;
  }

  override toJSON(): ErrorBody {
    return { ...super.toJSON(), expected: this.expected, found: this.found };
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
