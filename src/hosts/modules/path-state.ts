/**
 * What the path modules (file, directory, lineinfile) share: one probe that reports a path's
 * type, mode and ownership, the per-field comparison with the definition, and the one way a
 * file's content is written (a temporary file beside it, then renamed over it).
 */
import type { ApplyStep, FieldChange, ProbeResult } from "./module.js";
import { moduleScript, PATH_HELPERS } from "./module-script.js";

export interface PathFacts {
  readonly type: "file" | "directory" | "symlink" | "other";
  /** Four octal digits: "0644". */
  readonly mode: string;
  readonly uid: string;
  readonly user: string;
  readonly gid: string;
  readonly group: string;
}

/** undefined: nothing at the path. */
export type PathState = PathFacts | undefined;

/** Prints `absent`, or `MODE UID USER GID GROUP TYPE` (lstat: a symlink is one). */
export const STAT_SCRIPT = moduleScript(`${PATH_HELPERS}\nbaton_stat "$1"`, {
  stats: true,
  inShell: true,
});

export function statProbeArgv(path: string): string[] {
  return ["sh", "-c", STAT_SCRIPT, "sh", path];
}

/** "644" / "0644" / "4755" → the four-digit form both sides are compared in. */
export function normalizeMode(mode: string): string {
  const bits = Number.parseInt(mode, 8);
  if (!/^[0-7]{1,4}$/.test(mode) || Number.isNaN(bits)) {
    throw new Error(`"${mode}" is not an octal file mode such as "0644"`);
  }
  return bits.toString(8).padStart(4, "0");
}

export function parseStatLine(line: string): PathState {
  if (line === "absent") return undefined;
  const match = /^([0-7]+) (\d+) (\S+) (\d+) (\S+) (.+)$/.exec(line);
  if (match === null) throw new Error(`unexpected stat output: ${JSON.stringify(line)}`);
  const [, mode, uid, user, gid, group, kind] = match as unknown as string[];
  const type =
    kind === "regular file" || kind === "regular empty file"
      ? "file"
      : kind === "directory"
        ? "directory"
        : kind === "symbolic link"
          ? "symlink"
          : "other";
  return {
    type,
    mode: normalizeMode(mode!),
    uid: uid!,
    user: user!,
    gid: gid!,
    group: group!,
  };
}

/** The result of a probe that must have run and succeeded; its stdout as lines. */
export function probeLines(results: ReadonlyMap<string, ProbeResult>, id: string): string[] {
  const result = results.get(id);
  if (result === undefined) throw new Error(`the probe "${id}" has no result`);
  if (result.code !== 0) {
    throw new Error(
      `the probe "${id}" failed (exit ${result.code}): ${result.stderr.trim() || "no message"}`,
    );
  }
  const text = result.stdout.endsWith("\n") ? result.stdout.slice(0, -1) : result.stdout;
  return text.split("\n");
}

/** Matches by name, or by number when the definition gives a numeric id. */
function sameOwner(wanted: string, id: string, name: string): boolean {
  return /^\d+$/.test(wanted) ? wanted === id : wanted === name;
}

/** mode / owner / group changes of an existing path; only the fields the definition sets. */
export function attributeChanges(
  wanted: { readonly mode?: string; readonly owner?: string; readonly group?: string },
  facts: PathState,
): FieldChange[] {
  const changes: FieldChange[] = [];
  if (wanted.mode !== undefined) {
    const mode = normalizeMode(wanted.mode);
    if (facts?.mode !== mode) changes.push({ field: "mode", from: facts?.mode ?? null, to: mode });
  }
  if (wanted.owner !== undefined && !(facts && sameOwner(wanted.owner, facts.uid, facts.user))) {
    changes.push({ field: "owner", from: facts?.user ?? null, to: wanted.owner });
  }
  if (wanted.group !== undefined && !(facts && sameOwner(wanted.group, facts.gid, facts.group))) {
    changes.push({ field: "group", from: facts?.group ?? null, to: wanted.group });
  }
  return changes;
}

/** chown's argument: `owner:group`, `owner`, `:group`, or "" for neither. */
export function ownership(owner: string | undefined, group: string | undefined): string {
  if (owner !== undefined && group !== undefined) return `${owner}:${group}`;
  if (owner !== undefined) return owner;
  if (group !== undefined) return `:${group}`;
  return "";
}

/**
 * Changes the owner and mode of paths that must be a `$1` ("file" or "directory") and never a
 * link, without following one: between the observe and apply round trips a symlink swapped in
 * at the path would otherwise make root chown or chmod its target (issue 19). Each path is
 * pinned first (a directory as the working directory, a file as fd 3), checked to be still
 * the path's own inode and no link, and only that inode is changed; a path that became a link
 * fails with a message. `$2` is chown's `owner:group` or "", `$3` the mode or "".
 */
export const ATTRIBUTE_SCRIPT = moduleScript(
  [
    "kind=$1 who=$2 mode=$3; shift 3; status=0",
    "for p do (",
    "  set -e",
    '  if [ -L "$p" ]; then',
    '    printf "%s is a symbolic link: Baton changes no owner or mode through a link; remove it, or change the definition\\n" "$p" >&2; exit 1',
    "  fi",
    '  if [ "$kind" = directory ]; then cd -P -- "$p"; at=.',
    '  elif [ -f "$p" ]; then exec 3<"$p"; at=/proc/self/fd/3',
    '  else printf "%s is no longer a %s\\n" "$p" "$kind" >&2; exit 1; fi',
    '  if [ -L "$p" ] || ! [ "$p" -ef "$at" ]; then',
    '    printf "%s was replaced while Baton changed it: nothing changed; apply again\\n" "$p" >&2; exit 1',
    "  fi",
    // The pinned inode itself: chown follows the fd's link to it, as it must (-h would not).
    '  if [ -n "$who" ]; then chown -- "$who" "$at"; fi',
    // After chown, which clears setuid/setgid bits.
    '  if [ -n "$mode" ]; then chmod -- "$mode" "$at"; fi',
    ") || status=1; done",
    "exit $status",
  ].join("\n"),
);

/** Owner and mode of `paths` (all of `kind`) changed without following links: see above. */
export function attributeStep(
  kind: "file" | "directory",
  paths: readonly string[],
  who: string,
  mode: string | undefined,
): ApplyStep {
  return { argv: ["sh", "-c", ATTRIBUTE_SCRIPT, "sh", kind, who, mode ?? "", ...paths] };
}

/** The chown / chmod step for the attribute changes among `changes`, if any. */
export function attributeSteps(
  kind: "file" | "directory",
  path: string,
  changes: readonly FieldChange[],
  wanted: { readonly mode?: string; readonly owner?: string; readonly group?: string },
): ApplyStep[] {
  const fields = new Set(changes.map((change) => change.field));
  const owner = fields.has("owner") ? wanted.owner : undefined;
  const group = fields.has("group") ? wanted.group : undefined;
  const who = ownership(owner, group);
  const mode =
    fields.has("mode") && wanted.mode !== undefined ? normalizeMode(wanted.mode) : undefined;
  if (who === "" && mode === undefined) return [];
  return [attributeStep(kind, [path], who, mode)];
}

/**
 * Writes stdin to a temporary file in the target's directory, made with its mode and owner by
 * `install -o -g -m` (no chown or chmod by name after, which a link swapped in would
 * redirect), then renames it over the target: a reader sees the old file or the new one,
 * never half of one, and a link at the target is replaced, never followed. `$3` is chown's
 * `owner:group`, `owner`, `:group` or "".
 */
export const WRITE_SCRIPT = moduleScript(
  [
    "set -e",
    // Made exclusively (noclobber), without starting mktemp unless the name is taken.
    't="$1.baton-$$"',
    "set -C",
    'if ! true 2>/dev/null >"$t"; then t=$(mktemp -- "$1.baton-XXXXXX"); fi',
    "set +C",
    "trap 'rm -f -- \"$t\"' EXIT",
    "case $3 in *:*) o=${3%%:*} g=${3#*:} ;; *) o=$3 g= ;; esac",
    // install replaces whatever is at "$t" (it unlinks first) and sets owner and mode itself.
    'install ${o:+-o "$o"} ${g:+-g "$g"} -m "$2" /dev/stdin "$t"',
    'mv -f -- "$t" "$1"',
    // Nothing left to clean up: no rm to start.
    "trap - EXIT",
  ].join("\n"),
);

export function atomicWriteStep(
  path: string,
  content: string | Buffer,
  mode: string,
  owner: string,
): ApplyStep {
  return { argv: ["sh", "-c", WRITE_SCRIPT, "sh", path, mode, owner], input: content };
}

/**
 * Mode and owner for a rewritten file: the definition's, else what the file had (renaming a
 * new file over it would otherwise reset them), else 0644 and the applying user.
 */
export function rewriteAttributes(
  wanted: { readonly mode?: string; readonly owner?: string; readonly group?: string },
  facts: PathState,
): { mode: string; owner: string } {
  const existing = facts?.type === "file" ? facts : undefined;
  const mode = wanted.mode !== undefined ? normalizeMode(wanted.mode) : (existing?.mode ?? "0644");
  const owner = ownership(wanted.owner ?? existing?.uid, wanted.group ?? existing?.gid);
  return { mode, owner };
}

const FAIL_SCRIPT = moduleScript('printf "%s\\n" "$1" >&2; exit 1');

/** A step that fails with `message`: what the plan cannot do by itself, said at apply. */
export function failStep(message: string): ApplyStep {
  return { argv: ["sh", "-c", FAIL_SCRIPT, "sh", message] };
}
