import type { ErrorBody } from "./error.js";

export interface BatonErrorOptions {
  readonly hint?: string | undefined;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly field?: string;
  /** The CLI's exit code when the error ends a command; 1 unless said otherwise. */
  readonly exitCode?: number;
  readonly cause?: unknown;
}

/**
 * The one base of every error a user can cause and fix: a bad definition, a name that does
 * not exist, a state that refuses the request. It carries a stable `code`, a message naming
 * what was expected and found, a `hint` with the fix and, when the problem is in a file,
 * where. The CLI prints it as `error[code] message` + hint; the API answers its `toJSON()`
 * with the status `status-codes.ts` gives its code. Anything else thrown is a bug.
 */
export class BatonError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly field?: string;
  readonly exitCode: number;

  constructor(code: string, message: string, options: BatonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BatonError";
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.file !== undefined) this.file = options.file;
    if (options.line !== undefined) this.line = options.line;
    if (options.column !== undefined) this.column = options.column;
    if (options.field !== undefined) this.field = options.field;
    this.exitCode = options.exitCode ?? 1;
  }

  /** The body of the API's error answer (`{error: …}`) and of `--json` output. */
  toJSON(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(this.line === undefined ? {} : { line: this.line }),
      ...(this.column === undefined ? {} : { column: this.column }),
      ...(this.field === undefined ? {} : { field: this.field }),
    };
  }
}

/**
 * The `{error: {code, message, hint?}}` of an answer with `status`, read field by field: a
 * proxy in between, or a controller of another version, may answer something else. What is
 * missing is named after the status.
 */
export function errorBodyOf(answer: unknown, status: number): ErrorBody {
  const error = field(answer, "error");
  const text = (key: string): string | undefined => {
    const value = field(error, key);
    return typeof value === "string" ? value : undefined;
  };
  const hint = text("hint");
  return {
    code: text("code") ?? `api.http_${status}`,
    message: text("message") ?? `HTTP ${status}`,
    ...(hint === undefined ? {} : { hint }),
  };
}

function field(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return new Map(Object.entries(value)).get(key);
}
