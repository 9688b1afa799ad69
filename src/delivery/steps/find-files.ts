import { type Dirent, lstatSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { globMatcher, literalBase } from "./glob.js";

export interface FoundFiles {
  /** Regular files, relative to the root with `/` separators, sorted. */
  readonly files: string[];
  /** Matching symlinks, left out: following one could copy any file of the host. */
  readonly symlinks: string[];
}

/**
 * The regular files under `root` that match any of `patterns`; a matching directory brings
 * every file below it. `.git` is never entered. Symlinks are not followed.
 */
export function findFiles(root: string, patterns: readonly string[]): FoundFiles {
  const found = new Set<string>();
  const symlinks = new Set<string>();
  if (patterns.length === 0) return { files: [], symlinks: [] };
  const matches = globMatcher(patterns);
  const bases = new Set(patterns.map(literalBase));
  const visited = new Set<string>();

  const walk = (relative: string, inMatch: boolean): void => {
    if (visited.has(relative)) return;
    visited.add(relative);
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, relative), { withFileTypes: true });
    } catch {
      return; // a base that does not exist matches nothing
    }
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === ".git" && relative === "") continue;
        walk(path, inMatch || matches(path));
      } else if (entry.isSymbolicLink()) {
        if (inMatch || matches(path)) symlinks.add(path);
      } else if (entry.isFile() && (inMatch || matches(path))) {
        found.add(path);
      }
    }
  };

  const realRoot = realpathSync(root);
  for (const base of bases) {
    if (base === "") walk(base, false);
    else if (isDirectoryInside(realRoot, join(root, base))) walk(base, matches(base));
    else if (matches(base) && isInside(realRoot, dirname(join(root, base)))) {
      const kind = kindOf(join(root, base));
      if (kind === "file") found.add(base);
      if (kind === "symlink") symlinks.add(base);
    }
  }
  return { files: [...found].sort(), symlinks: [...symlinks].sort() };
}

/** A real directory under `realRoot`, not one reached through a symlink on the way. */
function isDirectoryInside(realRoot: string, path: string): boolean {
  return kindOf(path) === "directory" && isInside(realRoot, path);
}

function isInside(realRoot: string, path: string): boolean {
  try {
    const real = realpathSync(path);
    return real === realRoot || real.startsWith(realRoot + sep);
  } catch {
    return false;
  }
}

function kindOf(path: string): "file" | "directory" | "symlink" | "other" | "missing" {
  try {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) return "symlink";
    if (stats.isDirectory()) return "directory";
    return stats.isFile() ? "file" : "other";
  } catch {
    return "missing";
  }
}
