/**
 * The small pieces of English and YAML that every message is built from, kept in one place
 * so that all messages name paths and values the same way.
 */

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `["apps", "web", "command", 1]` → `apps.web.command[1]`; odd keys are quoted. */
export function formatPath(path: Path): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** The subject of a sentence about `path`: the path itself, or "the definition" at the top. */
export function subject(path: Path): string {
  return path.length === 0 ? "the definition" : formatPath(path);
}

const MAX_QUOTED = 40;

/** What was found, for "…, found <this>": `the string "three"`, `a list`, `no value`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "no value";
  if (typeof value === "string") {
    if (value === "") return "an empty string";
    const shown = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED - 1)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return `\`${value}\``;
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") {
    return Object.keys(value).length === 0 ? "an empty mapping" : "a mapping";
  }
  return typeof value;
}

/** Strings that YAML reads back as the same string without quotes. */
const PLAIN_STRING = /^[A-Za-z0-9_./][A-Za-z0-9_./ -]*$/;
const LOOKS_LIKE_OTHER_TYPE = /^(?:true|false|null|~|yes|no|on|off|[-+]?[0-9.]+(?:e[-+]?\d+)?)$/i;

/**
 * A value written as a user would write it on one line of YAML, for hints such as
 * "write `replicas: 3`". Lists use the JSON-like flow style the docs use: `["node", "a.js"]`.
 */
export function inlineYaml(value: unknown): string {
  if (typeof value === "string") {
    const plain = PLAIN_STRING.test(value) && !LOOKS_LIKE_OTHER_TYPE.test(value);
    return plain && value.trim() === value ? value : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => JSON.stringify(item)).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${k}: ${inlineYaml(v)}`);
    return `{ ${entries.join(", ")} }`;
  }
  return String(value);
}

/** "a, b and c". */
export function listWords(words: readonly string[], conjunction = "and"): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${conjunction} ${words[words.length - 1]}`;
}
