/**
 * The fields of a structured log line: a line that is a JSON object (as most JSON loggers
 * write, one object per line). Anything else — plain text, arrays, broken JSON — has none.
 */
export function lineFields(line: string): Readonly<Record<string, unknown>> | undefined {
  const text = line.trim();
  // Most lines are plain text: skip the parser unless it can possibly be an object.
  if (!text.startsWith("{") || !text.endsWith("}")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * A field by name; `a.b` reaches into nested objects when no field is literally named so.
 * Values compare as text: strings as they are, everything else as JSON.
 */
export function fieldText(
  fields: Readonly<Record<string, unknown>>,
  name: string,
): string | undefined {
  let value: unknown = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (value === undefined && name.includes(".")) {
    value = fields;
    for (const part of name.split(".")) {
      if (typeof value !== "object" || value === null || !Object.hasOwn(value, part)) {
        return undefined;
      }
      value = (value as Record<string, unknown>)[part];
    }
  }
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}
