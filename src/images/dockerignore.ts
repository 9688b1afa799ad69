import { readFileSync } from "node:fs";
import { posix } from "node:path";

/**
 * `.dockerignore` as the Docker CLI reads it: patterns relative to the context root (no
 * "any depth" rule as in .gitignore: `*.log` is a root file only, `**\/*.log` any depth),
 * `*` and `?` within one path segment, `**` across segments, `!` re-including, the last
 * matching pattern winning, and a pattern that matches a folder covering all it holds.
 */
export interface IgnoreRules {
  /** Whether the path (relative, `/`-separated) is left out of the context. */
  excludes(path: string): boolean;
  /** With `!` patterns, an excluded folder may still hold included files: walk into it. */
  readonly hasExceptions: boolean;
}

interface Rule {
  readonly negated: boolean;
  readonly regex: RegExp;
  /** Segments of the pattern: a folder of that depth is matched against it too. */
  readonly depth: number;
}

export function readDockerignore(file: string): IgnoreRules {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return ignoreRules([]);
    throw error;
  }
  return ignoreRules(text.split(/\r?\n/));
}

export function ignoreRules(lines: readonly string[]): IgnoreRules {
  const rules: Rule[] = [];
  for (const raw of lines) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    if (negated) line = line.slice(1).trim();
    const cleaned = posix.normalize(line).replace(/^\/+/, "").replace(/\/+$/, "");
    if (cleaned === "" || cleaned === ".") continue;
    rules.push({ negated, regex: patternRegex(cleaned), depth: cleaned.split("/").length });
  }
  return {
    hasExceptions: rules.some((r) => r.negated),
    excludes(path: string): boolean {
      const segments = path.split("/");
      let excluded = false;
      for (const rule of rules) {
        // Only a rule that would flip the answer needs testing.
        if (rule.negated !== excluded) continue;
        let match = rule.regex.test(path);
        if (!match && segments.length > rule.depth) {
          match = rule.regex.test(segments.slice(0, rule.depth).join("/"));
        }
        if (match) excluded = !rule.negated;
      }
      return excluded;
    },
  };
}

function patternRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          // `**/` is zero or more whole folders.
          i++;
          source += "(?:.*/)?";
        } else source += ".*";
      } else source += "[^/]*";
    } else if (c === "?") source += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) {
      i++;
      source += escapeRegExp(pattern[i] as string);
    } else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
}
