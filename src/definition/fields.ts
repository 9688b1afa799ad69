/**
 * The raw YAML as the checks read it: defensively, since they run even where the schema
 * found problems, so that every problem is reported at once.
 */
export type Fields = Readonly<Record<string, unknown>>;

/** A YAML mapping (not a list, not a scalar, not null). */
export function isFields(value: unknown): value is Fields {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
