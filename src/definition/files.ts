/**
 * Everything the loader reads besides the definition's text goes through this: whether a
 * path is a folder or a file, a folder's content digest, a template's text. The CLI reads its
 * own disk (`diskFiles`); a controller reads what the client uploaded, and never the disk of
 * whoever sent the definition.
 */
import { readFileSync, statSync } from "node:fs";
import { treeDigest } from "../util/file-tree.js";

/** What is at a path, following symlinks: absent (undefined) is not an error. */
export type PathKind = "dir" | "file" | "other";

export interface FolderContent {
  /** The folder's content digest, as util/file-tree's `treeDigest` computes it. */
  readonly digest: string;
  /** The manifest blob (`sha256:…`) the digest was computed from, when uploaded. */
  readonly manifest?: string;
}

export interface DefinitionFiles {
  /** What the absolute `path` is; undefined when nothing is there. */
  kind(path: string): PathKind | undefined;
  /** The content of folder `dir` less `.git/`, `.baton/`, `ignore` and `exclude`. */
  folder(
    dir: string,
    options: { readonly ignore: readonly string[]; readonly exclude: readonly string[] },
  ): FolderContent;
  /** The text of the file at `path` (a host template); throws when it cannot be read. */
  readText(path: string): string;
}

/** The folders and files a definition names, read from this machine's disk. */
export const diskFiles: DefinitionFiles = {
  kind(path) {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return undefined;
    return stats.isDirectory() ? "dir" : stats.isFile() ? "file" : "other";
  },
  folder(dir, options) {
    return { digest: treeDigest(dir, options) };
  },
  readText(path) {
    return readFileSync(path, "utf8");
  },
};
