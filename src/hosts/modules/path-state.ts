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

/** chmod / chown steps for the attribute changes among `changes`. */
export function attributeSteps(
  path: string,
  changes: readonly FieldChange[],
  wanted: { readonly mode?: string; readonly owner?: string; readonly group?: string },
): ApplyStep[] {
  const steps: ApplyStep[] = [];
  const fields = new Set(changes.map((change) => change.field));
  const owner = fields.has("owner") ? wanted.owner : undefined;
  const group = fields.has("group") ? wanted.group : undefined;
  const who = ownership(owner, group);
  if (who !== "") steps.push({ argv: ["chown", "--", who, path] });
  if (fields.has("mode") && wanted.mode !== undefined) {
    steps.push({ argv: ["chmod", "--", normalizeMode(wanted.mode), path] });
  }
  return steps;
}

/**
 * Writes stdin to a temporary file in the target's directory, sets its mode and owner, then
 * renames it over the target: a reader sees the old file or the new one, never half of one.
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
    // install copies stdin and sets the mode in one command (cat + chmod otherwise).
    'install -m "$2" /dev/stdin "$t"',
    'if [ -n "$3" ]; then chown -- "$3" "$t"; fi',
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
