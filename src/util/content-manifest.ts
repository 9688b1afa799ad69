/**
 * A folder as it travels to a controller: a manifest (JSON) naming each entry's path, kind,
 * mode, size and content digest, plus one content-addressed blob per file. The folder's
 * content digest is computed from the manifest exactly as `treeDigest` computes it from the
 * disk, so an app's revision is the same whether its folder was read here or uploaded.
 */
import { createHash } from "node:crypto";
import { lstatSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import {
  ALWAYS_IGNORED,
  digestOfFiles,
  ignoreMatcher,
  signatureOf,
  type TreeEntry,
  type TreeFile,
  type TreeOptions,
  treeFilesSync,
} from "./file-tree.js";

/** `sha256:` and 64 lowercase hex characters: how blobs and manifests are named. */
export const BLOB_DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ManifestEntry {
  /** Relative to the folder, `/`-separated, never empty. */
  readonly path: string;
  readonly kind: "dir" | "file" | "symlink";
  /** Permission bits (`mode & 0o7777`). */
  readonly mode: number;
  /** Bytes of a file; the target's length for a symlink; 0 for a directory. */
  readonly size: number;
  /** A file's blob: `sha256:<hex>` of its bytes. */
  readonly digest?: string;
  /** A symlink's target, as written. */
  readonly target?: string;
}

export interface Manifest {
  /** Permission bits of the folder itself. */
  readonly mode: number;
  /** Sorted by path. */
  readonly entries: readonly ManifestEntry[];
}

/** A manifest that does not read as one. */
export class ManifestError extends Error {
  override name = "ManifestError";
}

/** The sha256 of some bytes, named as a blob is: `sha256:<hex>`. */
export function blobDigest(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * The manifest of folder `root` on disk, filtered as `treeDigest` filters it (`.git/`,
 * `.baton/`, `ignore`, `exclude`): `contentDigest(manifest)` equals `treeDigest(root, options)`.
 */
export function folderManifest(root: string, options: TreeOptions = {}): Manifest {
  const files = treeFilesSync(root, options);
  return {
    mode: lstatSync(resolve(root)).mode & 0o7777,
    entries: files.map(entryOf).sort(byPath),
  };
}

/** The manifest as stored and uploaded: the same manifest always gives the same bytes. */
export function manifestBytes(manifest: Manifest): Buffer {
  const entries = [...manifest.entries].sort(byPath).map((e) => ({
    path: e.path,
    kind: e.kind,
    mode: e.mode,
    size: e.size,
    ...(e.digest === undefined ? {} : { digest: e.digest }),
    ...(e.target === undefined ? {} : { target: e.target }),
  }));
  return Buffer.from(JSON.stringify({ mode: manifest.mode, entries }));
}

/** Reads a manifest back, checking every field: it came over the network. */
export function parseManifest(bytes: Buffer): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new ManifestError(`not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(value) || !Array.isArray(value.entries) || !isMode(value.mode)) {
    throw new ManifestError("expected {mode, entries: [...]}");
  }
  const seen = new Set<string>();
  const entries = value.entries.map((raw, i): ManifestEntry => {
    const entry = entryFrom(raw);
    if (entry === undefined) throw new ManifestError(`entry ${i} is not a valid entry`);
    if (seen.has(entry.path)) throw new ManifestError(`${entry.path} is listed twice`);
    seen.add(entry.path);
    return entry;
  });
  return { mode: value.mode, entries: entries.sort(byPath) };
}

/** The blobs a manifest's files are made of, each once. */
export function fileDigests(manifest: Manifest): string[] {
  const digests = new Set<string>();
  for (const entry of manifest.entries) if (entry.digest !== undefined) digests.add(entry.digest);
  return [...digests];
}

/**
 * The entries of the manifest of folder `root` that an app's content is made of: those left
 * out by `.git/`, `.baton/`, `ignore` or `exclude` (absolute paths) are dropped, with all
 * below them, as `treeDigest` never walks into them.
 */
export function selectEntries(
  manifest: Manifest,
  root: string,
  options: TreeOptions = {},
): ManifestEntry[] {
  const ignored = ignoreMatcher([...ALWAYS_IGNORED, ...(options.ignore ?? [])]);
  const excluded = (options.exclude ?? []).flatMap((path) => {
    const inside = relative(resolve(root), resolve(path));
    if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) return [];
    return [inside.split(sep).join("/")];
  });
  return manifest.entries.filter(
    (entry) =>
      !ignored(entry.path, entry.kind === "dir") &&
      !excluded.some((path) => entry.path === path || entry.path.startsWith(`${path}/`)),
  );
}

/** The content digest (`treeDigest`'s) of a folder made of `entries`. */
export function contentDigest(entries: readonly ManifestEntry[]): string {
  return digestOfFiles(entries.map(treeFileOf));
}

/** The entries as `treeEntries` gives a folder on disk, to say which files two revisions differ in. */
export function entriesByPath(entries: readonly ManifestEntry[]): Map<string, TreeEntry> {
  return new Map(
    entries.map((entry) => [
      entry.path,
      { kind: entry.kind, signature: signatureOf(treeFileOf(entry)) },
    ]),
  );
}

function treeFileOf(entry: ManifestEntry): TreeFile {
  return {
    relative: entry.path,
    kind: entry.kind,
    mode: entry.mode,
    size: entry.size,
    value:
      entry.kind === "file"
        ? (entry.digest ?? "").slice("sha256:".length)
        : entry.kind === "symlink"
          ? (entry.target ?? "")
          : "",
  };
}

function entryOf(file: TreeFile): ManifestEntry {
  const base = { path: file.relative, kind: file.kind, mode: file.mode, size: file.size };
  if (file.kind === "file") return { ...base, digest: `sha256:${file.value}` };
  if (file.kind === "symlink") return { ...base, target: file.value };
  return base;
}

function entryFrom(raw: unknown): ManifestEntry | undefined {
  if (!isRecord(raw)) return undefined;
  const { path, kind, mode, size, digest, target } = raw;
  if (typeof path !== "string" || !safePath(path) || !isMode(mode)) return undefined;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return undefined;
  if (kind === "dir") return { path, kind, mode, size };
  if (kind === "file" && typeof digest === "string" && BLOB_DIGEST.test(digest)) {
    return { path, kind, mode, size, digest };
  }
  if (kind === "symlink" && typeof target === "string" && target !== "" && !target.includes("\0")) {
    return { path, kind, mode, size, target };
  }
  return undefined;
}

/** Relative, `/`-separated, with no `.`, `..` or empty part: it cannot leave the folder. */
function safePath(path: string): boolean {
  if (path === "" || path.includes("\0") || path.includes("\\")) return false;
  return path.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}

function isMode(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0o7777;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
