import { BatonError } from "../../api/errors.js";
import { fieldText } from "./line-fields.js";
import type { LogRecord } from "./log-record.js";

/** `--where key=value`, `key!=value`, `key~regex`: a condition on a JSON line's field. */
export interface FieldCondition {
  readonly field: string;
  readonly op: "=" | "!=" | "~";
  readonly value: string;
  readonly pattern?: RegExp;
}

/** A `--grep` or `--where` the user wrote that cannot filter anything. */
export class LogFilterError extends BatonError {
  declare readonly hint: string;

  constructor(message: string, hint: string) {
    super("logs.invalid_filter", message, { hint });
    this.name = "LogFilterError";
  }
}

const CONDITION = /^([A-Za-z0-9_.@-]+)\s*(!=|=|~)(.*)$/s;

export function parseCondition(text: string): FieldCondition {
  const match = CONDITION.exec(text);
  if (match === null) {
    throw new LogFilterError(
      `--where ${JSON.stringify(text)} is not a condition on a field`,
      "write FIELD=VALUE, FIELD!=VALUE or FIELD~REGEX, e.g. --where level=error",
    );
  }
  const [, field = "", op = "=", value = ""] = match;
  if (op === "~") {
    return { field, op, value, pattern: compilePattern(value, `--where ${text}`) };
  }
  return { field, op: op as "=" | "!=", value };
}

export function compilePattern(source: string, option: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new LogFilterError(
      `${option}: ${JSON.stringify(source)} is not a regular expression (${(error as Error).message})`,
      "use JavaScript regular expression syntax; escape ( [ { . * + ? with a backslash to match them literally",
    );
  }
}

export interface LogFilter {
  readonly grep?: RegExp;
  readonly where: readonly FieldCondition[];
}

/**
 * Whether a line passes every condition. `=` and `~` need the field to exist; `!=` passes a
 * line without the field (it is not equal), so `--where level!=debug` keeps plain text.
 */
export function passes(record: LogRecord, filter: LogFilter): boolean {
  if (filter.grep !== undefined && !filter.grep.test(record.line)) return false;
  for (const condition of filter.where) {
    const value =
      record.fields === undefined ? undefined : fieldText(record.fields, condition.field);
    if (condition.op === "!=") {
      if (value === condition.value) return false;
      continue;
    }
    if (value === undefined) return false;
    if (condition.op === "=" && value !== condition.value) return false;
    if (condition.op === "~" && !condition.pattern?.test(value)) return false;
  }
  return true;
}
