import { createHash, randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
} from "node:fs";
import type { FileHandle } from "node:fs/promises";
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { copyMode, SPECIAL_BITS } from "./file-mode.js";

/**
 * An app's working directory identified by its content and copied into an immutable snapshot:
 * editing a config file in the directory gives a new digest, hence a new revision, and each
 * revision runs from its own copy.
 */
export interface TreeOptions {
  /**
   * gitignore-style patterns relative to the root: `*.log` (no slash: basename at any depth),
   * `data/` (trailing slash: directories only), `tmp/**`, `/build` or `config/*.json` (a slash
   * inside or leading: anchored at the root), `**` spans directories, `*` and `?` never match
   * `/`. A leading `!` is not supported (throws). Blank entries and `#` comments are skipped.
   */
  readonly ignore?: readonly string[];
  /** Absolute paths never walked (e.g. the state directory when it lies inside the root). */
  readonly exclude?: readonly string[];
}

/** Always skipped, whatever the options: version-control and Baton's own state folders. */
export const ALWAYS_IGNORED: readonly string[] = [".git/", ".baton/"];

/** The tree's content differed from the digest it was planned with when it was copied. */
export class TreeChangedError extends Error {
  constructor(
    readonly root: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      `${root} changed while it was being copied: digest ${expected} was planned, ${found} found`,
    );
    this.name = "TreeChangedError";
  }
}

type Matcher = (relativePath: string, isDirectory: boolean) => boolean;

/**
 * Whether a path (relative to the root, `/`-separated) is ignored, by itself or because a
 * directory above it is, as git would decide.
 */
export function ignoreMatcher(patterns: readonly string[]): Matcher {
  const matchesSelf = compilePatterns(patterns);
  return (relativePath, isDirectory) => {
    const parts = relativePath.split("/").filter((part) => part !== "" && part !== ".");
    for (let i = 1; i < parts.length; i++) {
      if (matchesSelf(parts.slice(0, i).join("/"), true)) return true;
    }
    return parts.length > 0 && matchesSelf(parts.join("/"), isDirectory);
  };
}

/**
 * Content digest of a tree: sha256 hex of the sorted list of (relative path, kind, executable
 * bit, content sha256 | symlink target). Empty directories count; mtimes, owners and other
 * mode bits do not. Synchronous, for use while parsing a definition.
 */
export function treeDigest(root: string, options: TreeOptions = {}): string {
  return digestOfFiles(treeFilesSync(root, options));
}

/** One entry of a tree as read from disk: what the digest counts of it, and its mode and size. */
export interface TreeFile {
  /** Relative to the root, `/`-separated. */
  readonly relative: string;
  readonly kind: "dir" | "file" | "symlink";
  /** Permission bits (`mode & 0o7777`). */
  readonly mode: number;
  /** Bytes of a file; the target's length for a symlink; 0 for a directory. */
  readonly size: number;
  /** A file's content sha256 (hex), a symlink's target, "" for a directory. */
  readonly value: string;
}

/**
 * Every entry of a tree (same filter as `treeDigest`) with its content hash, mode and size:
 * what a manifest of the folder is made of. `digestOfFiles` of the result is the tree's digest.
 */
export function treeFilesSync(root: string, options: TreeOptions = {}): TreeFile[] {
  const source = resolve(root);
  const skip = makeSkip(options, []);
  const files: TreeFile[] = [];
  for (const entry of listSync(source, skip)) {
    const file = fileSync(join(source, entry.relative), entry);
    if (file !== undefined) files.push(file);
  }
  return files;
}

/** The digest `treeDigest` gives a tree made of `files`, in any order. */
export function digestOfFiles(files: readonly TreeFile[]): string {
  return digestOf(files.map(recordOf));
}

/** What the digest counts of an entry, as `TreeEntry.signature` says it. */
export function signatureOf(file: TreeFile): string {
  return recordOf(file).line;
}

/** Only a file's executable bit counts: directories and links have theirs whatever they hold. */
function recordOf(file: TreeFile): TreeRecord {
  return record(file, file.kind === "file" && isExecutable(file.mode), file.value);
}

/** An entry of a tree as `treeEntries` gives it. */
export interface TreeEntry {
  readonly kind: "dir" | "file" | "symlink";
  /** Equal for two entries exactly when the digest counts them the same (content, exec bit). */
  readonly signature: string;
}

/**
 * Every entry of a tree (same filter as `treeDigest`) by relative path, with what the digest
 * counts of it: two trees compared entry by entry say which files a digest change is made of.
 */
export async function treeEntries(
  root: string,
  options: TreeOptions = {},
): Promise<Map<string, TreeEntry>> {
  const source = resolve(root);
  const entries = new Map<string, TreeEntry>();
  await eachLimit(await listAsync(source, makeSkip(options, [])), CONCURRENCY, async (entry) => {
    const found = await recordAsync(join(source, entry.relative), entry);
    if (found !== undefined)
      entries.set(entry.relative, { kind: entry.kind, signature: found.line });
  });
  return entries;
}

/**
 * Copies the tree (same filter as `treeDigest`) to `dest` through a sibling temp dir renamed
 * into place, and returns the digest of the copy: the files are hashed as read back from the
 * copy, so the digest describes exactly what is in `dest` even if the source changed meanwhile.
 * An existing `dest` is kept as is (snapshots are content-addressed) and `expectedDigest`, or
 * failing that the digest of `dest`, is returned. With `expectedDigest`, a copy whose digest
 * differs is discarded and a TreeChangedError thrown.
 */
export async function copyTree(
  root: string,
  dest: string,
  options: TreeOptions & { readonly expectedDigest?: string } = {},
): Promise<string> {
  const source = resolve(root);
  const target = resolve(dest);
  if (await exists(target)) {
    if (options.expectedDigest !== undefined) return options.expectedDigest;
    return digestAsync(target, makeSkip({ ignore: options.ignore ?? [] }, []));
  }
  const temp = `${target}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  const skip = makeSkip(options, [temp]);
  refuseCopyIntoItself(source, target, skip);
  const rootStat = await stat(source).catch((error: unknown) => {
    throw readError("directory", source, error);
  });
  if (!rootStat.isDirectory()) throw new Error(`cannot copy ${source}: not a directory`);

  await mkdir(dirname(target), { recursive: true });
  await mkdir(temp, { mode: 0o700 });
  try {
    const directoryModes: [string, number][] = [];
    const entries = await listAsync(source, skip, async (directory) => {
      await mkdir(join(temp, directory), { mode: 0o700 });
      const mode = await lstat(join(source, directory)).then(
        (stats) => stats.mode,
        (error: unknown) => {
          if (vanished(error)) return undefined;
          throw readError("directory", join(source, directory), error);
        },
      );
      if (mode !== undefined) directoryModes.push([directory, mode]);
    });

    const records: TreeRecord[] = [];
    await eachLimit(entries, CONCURRENCY, async (entry) => {
      const from = join(source, entry.relative);
      const to = join(temp, entry.relative);
      try {
        if (entry.kind === "symlink") await symlink(await readlink(from), to);
        // copyFile gives the copy the source's mode; a reflink where the filesystem has them.
        if (entry.kind === "file") {
          await copyFile(from, to, constants.COPYFILE_FICLONE);
          await dropSpecialBits(to);
        }
      } catch (error) {
        if (vanished(error)) return;
        throw new Error(`cannot copy ${entry.kind} ${from} to ${to}: ${reasonOf(error)}`, {
          cause: error,
        });
      }
      const record = await recordAsync(to, entry);
      if (record !== undefined) records.push(record);
    });

    const digest = digestOf(records);
    if (options.expectedDigest !== undefined && digest !== options.expectedDigest) {
      throw new TreeChangedError(root, options.expectedDigest, digest);
    }
    // Modes last: a read-only directory could not have been filled.
    await eachLimit(directoryModes, CONCURRENCY, ([directory, mode]) =>
      chmod(join(temp, directory), copyMode(mode)),
    );
    await chmod(temp, copyMode(rootStat.mode));
    try {
      await rename(temp, target);
    } catch (error) {
      // Another copier of the same content won the race; its snapshot is as good as ours.
      if (!hasCode(error, "EEXIST", "ENOTEMPTY")) throw error;
      await removeTree(temp);
    }
    return digest;
  } catch (error) {
    await removeTree(temp);
    throw error;
  }
}

// --- ignore patterns ---

function compilePatterns(patterns: readonly string[]): Matcher {
  const any: string[] = [];
  const directoriesOnly: string[] = [];
  for (const pattern of patterns) {
    if (pattern.trim() === "" || pattern.startsWith("#")) continue;
    const rule = compileRule(pattern);
    (rule.directoryOnly ? directoriesOnly : any).push(rule.source);
  }
  // One alternation a kind, so a path costs two regex tests however many patterns there are.
  const anyRegex = alternation(any);
  const directoryRegex = alternation(directoriesOnly);
  return (relativePath, isDirectory) =>
    anyRegex?.test(relativePath) === true ||
    (isDirectory && directoryRegex?.test(relativePath) === true);
}

function alternation(sources: readonly string[]): RegExp | undefined {
  if (sources.length === 0) return undefined;
  return new RegExp(`^(?:${sources.map((source) => `(?:${source})`).join("|")})$`);
}

function compileRule(pattern: string): { source: string; directoryOnly: boolean } {
  if (pattern.startsWith("!")) {
    throw new Error(
      `ignore pattern "${pattern}": negation with "!" is not supported; list only what to leave out`,
    );
  }
  const directoryOnly = pattern.endsWith("/");
  let body = pattern.replace(/\/+$/, "");
  // As in gitignore, a slash at the start or in the middle anchors the pattern at the root;
  // without one it names an entry at any depth.
  const anchored = body.includes("/");
  body = body.replace(/^\/+/, "");
  if (body === "") throw new Error(`ignore pattern "${pattern}" names no path`);
  return { source: globSource(anchored ? body : `**/${body}`), directoryOnly };
}

function globSource(glob: string): string {
  const segments = glob.split("/");
  let source = "";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "**") {
      // Leading or inner: zero or more whole directories. Trailing: everything below.
      if (!last) source += "(?:[^/]+/)*";
      else source += i === 0 ? ".*" : ".+";
    } else {
      source += segmentSource(segment) + (last ? "" : "/");
    }
  });
  return source;
}

function segmentSource(segment: string): string {
  let source = "";
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === "\\" && i + 1 < segment.length) {
      source += escapeRegExp(segment[++i]!);
    } else if (char === "*") {
      while (segment[i + 1] === "*") i++;
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[") {
      const end = classEnd(segment, i);
      if (end === -1) {
        source += "\\[";
      } else {
        source += classSource(segment.slice(i + 1, end));
        i = end;
      }
    } else {
      source += escapeRegExp(char);
    }
  }
  return source;
}

function classEnd(segment: string, open: number): number {
  let i = open + 1;
  if (segment[i] === "!" || segment[i] === "^") i++;
  if (segment[i] === "]") i++;
  return segment.indexOf("]", i);
}

function classSource(inner: string): string {
  const negated = inner.startsWith("!") || inner.startsWith("^");
  const body = (negated ? inner.slice(1) : inner).replace(/[\\\]^[]/g, "\\$&");
  return negated ? `[^${body}/]` : `[${body}]`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

// --- walking ---

type Kind = "dir" | "file" | "symlink";

interface Entry {
  readonly relative: string;
  readonly kind: Kind;
}

/** Whether to leave out an entry (and, for a directory, all below it). */
type Skip = (absolute: string, relative: string, isDirectory: boolean) => boolean;

function makeSkip(options: TreeOptions, extraExcludes: readonly string[]): Skip {
  const ignored = compilePatterns([...ALWAYS_IGNORED, ...(options.ignore ?? [])]);
  for (const path of options.exclude ?? []) {
    if (!isAbsolute(path)) throw new Error(`exclude path "${path}" must be absolute`);
  }
  const excluded = new Set([...(options.exclude ?? []), ...extraExcludes].map((p) => resolve(p)));
  // Ignored directories are never entered, so matching the entry itself is enough here.
  return (absolute, relativePath, isDirectory) =>
    excluded.has(absolute) || ignored(relativePath, isDirectory);
}

/** Sockets, FIFOs and devices are no part of an app's files. */
function kindOf(dirent: Dirent): Kind | undefined {
  if (dirent.isSymbolicLink()) return "symlink";
  if (dirent.isDirectory()) return "dir";
  if (dirent.isFile()) return "file";
  return undefined;
}

function childEntries(root: string, directory: string, dirents: readonly Dirent[], skip: Skip) {
  const entries: Entry[] = [];
  for (const dirent of dirents) {
    const kind = kindOf(dirent);
    if (kind === undefined) continue;
    const relativePath = directory === "" ? dirent.name : `${directory}/${dirent.name}`;
    if (skip(join(root, relativePath), relativePath, kind === "dir")) continue;
    entries.push({ relative: relativePath, kind });
  }
  return entries;
}

function listSync(root: string, skip: Skip): Entry[] {
  const entries: Entry[] = [];
  const pending = [""];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    const path = join(root, directory);
    let dirents: Dirent[];
    try {
      dirents = readdirSync(path, { withFileTypes: true });
    } catch (error) {
      // An entry deleted since its parent was listed is simply no longer part of the tree.
      if (directory !== "" && vanished(error)) continue;
      throw readError("directory", path, error);
    }
    for (const entry of childEntries(root, directory, dirents, skip)) {
      entries.push(entry);
      if (entry.kind === "dir") pending.push(entry.relative);
    }
  }
  return entries;
}

/**
 * Lists the tree a level at a time; `onDirectory` runs for each directory below the root before
 * its entries are listed, hence after its parent's.
 */
async function listAsync(
  root: string,
  skip: Skip,
  onDirectory?: (relative: string) => Promise<void>,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  let level = [""];
  while (level.length > 0) {
    const next: string[] = [];
    await eachLimit(level, CONCURRENCY, async (directory) => {
      if (directory !== "") await onDirectory?.(directory);
      const path = join(root, directory);
      let dirents: Dirent[];
      try {
        dirents = await readdir(path, { withFileTypes: true });
      } catch (error) {
        if (directory !== "" && vanished(error)) return;
        throw readError("directory", path, error);
      }
      for (const entry of childEntries(root, directory, dirents, skip)) {
        entries.push(entry);
        if (entry.kind === "dir") next.push(entry.relative);
      }
    });
    level = next;
  }
  return entries;
}

async function digestAsync(root: string, skip: Skip): Promise<string> {
  const records: TreeRecord[] = [];
  await eachLimit(await listAsync(root, skip), CONCURRENCY, async (entry) => {
    const record = await recordAsync(join(root, entry.relative), entry);
    if (record !== undefined) records.push(record);
  });
  return digestOf(records);
}

// --- digest ---

const CONCURRENCY = 16;
const CHUNK_BYTES = 1 << 20;
// Files are opened without following a link that replaced them since they were listed, and
// without blocking should one have become a FIFO.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

interface TreeRecord {
  readonly relative: string;
  readonly line: string;
}

function digestOf(records: TreeRecord[]): string {
  records.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  const hash = createHash("sha256");
  for (const record of records) hash.update(record.line);
  return hash.digest("hex");
}

/** NUL ends every field: no path or link target holds one, so the list reads one way only. */
function record(entry: Entry, executable: boolean, value: string): TreeRecord {
  const line = `${entry.relative}\0${entry.kind}\0${executable ? "x" : "-"}\0${value}\0`;
  return { relative: entry.relative, line };
}

/** Git's notion of executable: the owner may execute it. */
function isExecutable(mode: number): boolean {
  return (mode & 0o100) !== 0;
}

let syncBuffer: Buffer | undefined;

/** The entry as read, or undefined when it vanished since it was listed. */
function fileSync(path: string, entry: Entry): TreeFile | undefined {
  const of = (mode: number, size: number, value: string): TreeFile => ({
    relative: entry.relative,
    kind: entry.kind,
    mode: mode & 0o7777,
    size,
    value,
  });
  try {
    if (entry.kind === "dir") return of(lstatSync(path).mode, 0, "");
    if (entry.kind === "symlink") {
      const target = readlinkSync(path);
      return of(lstatSync(path).mode, Buffer.byteLength(target), target);
    }
    const fd = openSync(path, OPEN_FLAGS);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) return undefined;
      const hash = createHash("sha256");
      syncBuffer ??= Buffer.allocUnsafe(CHUNK_BYTES);
      let size = 0;
      for (;;) {
        const bytes = readSync(fd, syncBuffer, 0, syncBuffer.length, null);
        if (bytes === 0) break;
        size += bytes;
        hash.update(syncBuffer.subarray(0, bytes));
      }
      return of(stats.mode, size, hash.digest("hex"));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (vanished(error)) return undefined;
    throw readError(entry.kind, path, error);
  }
}

async function recordAsync(path: string, entry: Entry): Promise<TreeRecord | undefined> {
  if (entry.kind === "dir") return record(entry, false, "");
  let handle: FileHandle | undefined;
  try {
    if (entry.kind === "symlink") return record(entry, false, await readlink(path));
    handle = await open(path, OPEN_FLAGS);
    const stats = await handle.stat();
    if (!stats.isFile()) return undefined;
    const hash = createHash("sha256");
    // One spare byte, so a small file is read whole by the first read.
    const buffer = Buffer.allocUnsafe(Math.min(stats.size + 1, CHUNK_BYTES));
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return record(entry, isExecutable(stats.mode), hash.digest("hex"));
  } catch (error) {
    if (vanished(error)) return undefined;
    throw readError(entry.kind, path, error);
  } finally {
    await handle?.close();
  }
}

// --- copying ---

/** A copied file keeps its permission bits, never setuid, setgid or sticky (file-mode.ts). */
async function dropSpecialBits(path: string): Promise<void> {
  const { mode } = await lstat(path);
  if ((mode & SPECIAL_BITS) !== 0) await chmod(path, copyMode(mode));
}

/** A copy into the tree it copies would be walked while written, and change its digest after. */
function refuseCopyIntoItself(source: string, target: string, skip: Skip): void {
  const inside = relative(source, target);
  if (inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return;
  const parts = inside.split(sep);
  for (let i = 1; i <= parts.length && inside !== ""; i++) {
    const relativePath = parts.slice(0, i).join("/");
    if (skip(join(source, relativePath), relativePath, true)) return;
  }
  throw new Error(
    `cannot copy ${source} to ${target}, which lies inside it: exclude or ignore the destination`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (hasCode(error, "ENOENT")) return false;
    throw error;
  }
}

/**
 * Best effort: a failed removal must not hide the error that caused it. A copied read-only
 * directory (the modes are applied just before the rename) is opened up first.
 */
async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch {
    // Fall through to make directories writable.
  }
  try {
    await makeDirectoriesWritable(path);
    await rm(path, { recursive: true, force: true });
  } catch {
    // Left behind; its name says whose temp dir it was.
  }
}

async function makeDirectoriesWritable(path: string): Promise<void> {
  await chmod(path, 0o700);
  for (const dirent of await readdir(path, { withFileTypes: true })) {
    if (dirent.isDirectory()) await makeDirectoriesWritable(join(path, dirent.name));
  }
}

/**
 * Runs `work` over `items`, at most `limit` at a time. After a failure no new item starts, and
 * the running ones are awaited before the error is rethrown: nothing may still be writing into
 * a directory the caller is about to remove.
 */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  const failure = (await Promise.allSettled(workers)).find(
    (result): result is PromiseRejectedResult => result.status === "rejected",
  );
  if (failure !== undefined) throw failure.reason;
}

// --- errors ---

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}

/** Gone (or no longer a directory) since its parent was listed. */
function vanished(error: unknown): boolean {
  return hasCode(error, "ENOENT", "ENOTDIR");
}

function readError(kind: Kind | "directory", path: string, error: unknown): Error {
  const what = kind === "dir" || kind === "directory" ? "directory" : kind;
  return new Error(`cannot read ${what} ${path}: ${reasonOf(error)}`, { cause: error });
}

/** The errno code alone: Node's own message repeats the path the caller's message names. */
function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
