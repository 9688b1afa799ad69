/**
 * Why one revision of an app replaces another, field by field, for plans: what the two
 * revisions are made of (definition/revision.ts) compared by one structural diff, so a field added
 * to the revision shows up here without more code, and the app folder compared file by file
 * in place of its digest. Secrets are masked: an env value whose name says it is one is never
 * shown, nor its value wherever else it appears, nor a URL's password, nor any file's content.
 */

import { type AppSpec, revisionContent } from "../definition/index.js";
import type { FieldChange } from "../engine/index.js";
import { secretMasker } from "../observe/logs/index.js";
import type { TreeEntry } from "../util/file-tree.js";
import { structuralDiff } from "../util/structural-diff.js";

/** Files named before the rest are counted: a rebuilt dependency folder is no list to read. */
export const MAX_FILES = 10;

/** A changed secret: that it changed is all a plan says. */
const SECRET_CHANGED = "(secret, changed)";
const SECRET = "(secret)";

/** Parts of the revision a plan does not show: the folder's path and digest; its files are. */
const NOT_SHOWN = new Set(["cwd", "content"]);

/** Names of env variables that hold secrets by their name's words (over-masking is harmless). */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SALT|CERT|SIGNATURE|COOKIE|DSN/i;

/** The password of a URL (`postgres://app:pw@db/app`), whatever its variable is called. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*:)[^\s/@"]+@/gi;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The app folder's files that differ between two revisions, each list sorted by path. */
export interface FileChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly modified: readonly string[];
}

/**
 * What differs from `from` (the running revision) to `to`. `files`: how the app folder
 * differs, when both folders could be read; without it a changed folder is named by digest.
 */
export function appChanges(
  from: AppSpec,
  to: AppSpec,
  files: FileChanges | undefined,
): FieldChange[] {
  const mask = secretMasker([...secretValues(from), ...secretValues(to)]);
  const shown = (value: unknown): string | null =>
    value === undefined ? null : mask(JSON.stringify(value)).replace(URL_PASSWORD, "$1***@");
  const fields = structuralDiff(readable(from), readable(to)).map((change): FieldChange => {
    const [top, name] = change.at;
    if (top === "secrets") {
      // A secret's digest: that it is used, dropped or changed is all a plan says.
      const secret = (value: unknown) => (value === undefined ? null : SECRET);
      return change.from !== undefined && change.to !== undefined
        ? { field: change.path, from: SECRET_CHANGED, to: SECRET_CHANGED }
        : { field: change.path, from: secret(change.from), to: secret(change.to) };
    }
    if (top === "env" && change.at.length === 2 && typeof name === "string" && looksSecret(name)) {
      const secret = (value: unknown) => (value === undefined ? null : SECRET);
      return change.from !== undefined && change.to !== undefined
        ? { field: change.path, from: SECRET_CHANGED, to: SECRET_CHANGED }
        : { field: change.path, from: secret(change.from), to: secret(change.to) };
    }
    return { field: change.path, from: shown(change.from), to: shown(change.to) };
  });
  return [...fields, ...folderChanges(from, to, files)];
}

/**
 * Entries added, removed or modified from `before` to `after`. A directory is named only when
 * nothing below it is: a new folder of files reads as its files, an empty one as `dir/`.
 */
export function compareTrees(
  before: ReadonlyMap<string, TreeEntry>,
  after: ReadonlyMap<string, TreeEntry>,
): FileChanges {
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  for (const [path, entry] of after) {
    const old = before.get(path);
    if (old === undefined) added.push(path);
    else if (old.signature !== entry.signature) modified.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) removed.push(path);
  const aboveChanged = new Set<string>();
  for (const path of [...added, ...removed, ...modified]) {
    for (let cut = path.lastIndexOf("/"); cut > 0; cut = path.lastIndexOf("/", cut - 1)) {
      aboveChanged.add(path.slice(0, cut));
    }
  }
  const kindOf = (path: string) => after.get(path)?.kind ?? before.get(path)?.kind;
  const named = (paths: string[]) =>
    paths
      .filter((p) => kindOf(p) !== "dir" || !aboveChanged.has(p))
      .map((p) => (kindOf(p) === "dir" ? `${p}/` : p))
      .sort();
  return { added: named(added), removed: named(removed), modified: named(modified) };
}

function folderChanges(from: AppSpec, to: AppSpec, files: FileChanges | undefined): FieldChange[] {
  if (from.contentDigest === to.contentDigest) return [];
  const listed = [
    ...(files?.modified ?? []).map((path) => fileChange(path, "modified")),
    ...(files?.added ?? []).map((path) => fileChange(path, "added")),
    ...(files?.removed ?? []).map((path) => fileChange(path, "removed")),
  ];
  if (listed.length === 0) {
    // Folders that could not both be read (or changed since): their digests say only that.
    const digest = (spec: AppSpec) =>
      spec.contentDigest === "" ? null : spec.contentDigest.slice(0, 12);
    return [{ field: "content", from: digest(from), to: digest(to) }];
  }
  if (listed.length <= MAX_FILES) return listed;
  const more = `and ${listed.length - (MAX_FILES - 1)} more`;
  return [...listed.slice(0, MAX_FILES - 1), { field: "files", from: more, to: more }];
}

function fileChange(path: string, what: "added" | "removed" | "modified"): FieldChange {
  return { field: `file ${path}`, from: what, to: what };
}

/**
 * Values of env variables named as secrets, to mask wherever they appear (a command line):
 * as written and as JSON escapes them, since the plan shows values as JSON.
 */
function secretValues(spec: AppSpec): string[] {
  return Object.entries(spec.env)
    .filter(([name]) => looksSecret(name))
    .flatMap(([, value]) => [value, JSON.stringify(value).slice(1, -1)]);
}

/** The revision's content as the definition reads, without what a plan does not show. */
function readable(spec: AppSpec): unknown {
  const content = revisionContent(spec);
  return Object.fromEntries(
    Object.entries(content)
      .filter(([key]) => !NOT_SHOWN.has(key))
      .map(([key, value]) => [key, asWritten(value)]),
  );
}

/**
 * The model's tagged forms back as a definition writes them, wherever they are: a command
 * `{argv}` is its list (`command[2]`) and `{shell}` its string; a probe `{kind: "http",
 * path}` is `http: path` (`health.readiness.http`), `{kind: "exec", argv}` is `exec: argv`.
 */
function asWritten(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asWritten);
  if (typeof value !== "object" || value === null) return value;
  const fields: Record<string, unknown> = Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, asWritten(v)]),
  );
  const keys = Object.keys(fields);
  if (keys.length === 1 && (keys[0] === "argv" || keys[0] === "shell")) return fields[keys[0]];
  const { kind, path, argv, ...rest } = fields;
  if (kind === "http") return { http: path, ...rest };
  if (kind === "exec") return { exec: argv, ...rest };
  if (kind === "tcp") return { tcp: true, ...rest };
  return fields;
}
