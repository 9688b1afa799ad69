/**
 * Glob patterns for `junit:` and `artifacts:` (Node 20 has no fs.glob): `*` and `?` within
 * one path segment, `**` as a whole segment for any number of segments, `{a,b}` for
 * alternatives (nestable), `[abc]`/`[a-z]`/`[!a]` for one character, `\` to escape.
 * Dot files match like any other: a report in `.reports/` is still a report.
 */

export class GlobError extends Error {
  override name = "GlobError";
}

/** True when `path` (relative, `/`-separated) matches `pattern`. */
export type PathMatcher = (path: string) => boolean;

export function globMatcher(patterns: readonly string[]): PathMatcher {
  const regexps = patterns.flatMap((pattern) => expandBraces(checkPattern(pattern)).map(toRegExp));
  return (path) => regexps.some((regexp) => regexp.test(path));
}

/**
 * The literal leading part of a pattern (no wildcard in it): a walk for the pattern need
 * only start there. "" when the first segment already has a wildcard.
 */
export function literalBase(pattern: string): string {
  const segments = checkPattern(pattern).split("/");
  const literal: string[] = [];
  // A wholly literal pattern names its file or directory: the walk starts right there.
  const wildcard = segments.some((segment) => /[*?[{\\]/.test(segment));
  for (const segment of wildcard ? segments.slice(0, -1) : segments) {
    if (/[*?[{\\]/.test(segment)) break;
    literal.push(segment);
  }
  return literal.join("/");
}

function checkPattern(pattern: string): string {
  const trimmed = pattern.replace(/^\.\//, "").replace(/\/+$/, "");
  if (trimmed === "" || trimmed.startsWith("/")) {
    throw new GlobError(
      `pattern ${JSON.stringify(pattern)} must be a non-empty path relative to the checkout (e.g. reports/*.xml)`,
    );
  }
  if (trimmed.split("/").includes("..")) {
    throw new GlobError(
      `pattern ${JSON.stringify(pattern)} leaves the checkout through "..": name files inside it`,
    );
  }
  return trimmed;
}

/** `a{b,c{d,e}}f` → abf, acdf, acef; a brace without a comma stays literal. */
export function expandBraces(pattern: string): string[] {
  const open = findUnescaped(pattern, "{", 0);
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      i++;
      continue;
    }
    if (char === "{") depth++;
    else if (char === "}") depth--;
    else if (char === "," && depth === 1) commas.push(i);
    if (depth === 0) {
      const head = pattern.slice(0, open);
      const tail = expandBraces(pattern.slice(i + 1));
      if (commas.length === 0) {
        // Literal braces: keep them escaped so the regexp sees plain characters.
        const inner = expandBraces(pattern.slice(open + 1, i));
        return inner.flatMap((middle) => tail.map((rest) => `${head}\\{${middle}\\}${rest}`));
      }
      const bounds = [open, ...commas, i];
      const alternatives: string[] = [];
      for (let k = 0; k + 1 < bounds.length; k++) {
        alternatives.push(...expandBraces(pattern.slice(bounds[k]! + 1, bounds[k + 1])));
      }
      return alternatives.flatMap((middle) => tail.map((rest) => head + middle + rest));
    }
  }
  throw new GlobError(`pattern ${JSON.stringify(pattern)} has a "{" without its "}"`);
}

function findUnescaped(text: string, char: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === char) return i;
  }
  return -1;
}

function toRegExp(pattern: string): RegExp {
  const segments = pattern.split("/");
  let source = "";
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === "**") {
      // Any number of whole segments, including none.
      source += last ? ".*" : "(?:[^/]+/)*";
      return;
    }
    source += segmentSource(segment, pattern) + (last ? "" : "/");
  });
  return new RegExp(`^${source}$`);
}

function segmentSource(segment: string, pattern: string): string {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === "\\") {
      out += escapeRegExp(segment[i + 1] ?? "\\");
      i++;
    } else if (char === "*") {
      out += "[^/]*";
    } else if (char === "?") {
      out += "[^/]";
    } else if (char === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negated = body.startsWith("!") || body.startsWith("^");
      if (negated) body = body.slice(1);
      if (body === "") throw new GlobError(`pattern ${JSON.stringify(pattern)} has an empty [ ]`);
      out += `[${negated ? "^/" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = close;
    } else {
      out += escapeRegExp(char);
    }
  }
  return out;
}

function escapeRegExp(char: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(char) ? `\\${char}` : char;
}
