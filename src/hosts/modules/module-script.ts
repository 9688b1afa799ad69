/**
 * The shell scripts modules run as `sh -c SCRIPT sh ARGS…`. Starting a new sh for each costs
 * an exec per probe; the batch runner instead defines each such script once as a function
 * of its own shell and calls it in a subshell, which only scripts written for it may be
 * (no `$0`, balanced as a function body) — so only the ones registered here are.
 *
 * A script that learns about its path `$1` through `baton_stat` / `baton_sha256` says so
 * when registered: the batch runner then stats (and hashes) every such path of the host
 * with one `stat` (one `sha256sum`) before the probes run, and these functions answer from
 * that. Run on its own, a script defines them itself, doing the work path by path.
 */
export interface ScriptUse {
  /** Calls `baton_stat "$1"` once, first: prints `absent` or STAT_FORMAT's fields. */
  readonly stats?: boolean;
  /** Calls `baton_sha256 "$1"` at most once, when $1 is a regular file: sets `baton_h`. */
  readonly hashes?: boolean;
  /**
   * Leaves the shell as it found it (no `exit`, `set`, `trap`, `cd`, `exec`): it may run in
   * the batch shell itself rather than in a subshell, which saves a fork per probe.
   */
  readonly inShell?: boolean;
}

const scripts = new Map<string, ScriptUse>();

export function moduleScript(text: string, use: ScriptUse = {}): string {
  scripts.set(text, use);
  return text;
}

export function isModuleScript(text: string): boolean {
  return scripts.has(text);
}

export function scriptUse(text: string): ScriptUse | undefined {
  return scripts.get(text);
}

/** What `baton_stat` prints of an existing path: mode, uid, user, gid, group, type. */
export const STAT_FORMAT = "%a %u %U %g %G %F";

/** The path-by-path `baton_stat` and `baton_sha256`, unless the batch defined faster ones. */
export const PATH_HELPERS = [
  "if ! command -v baton_stat >/dev/null; then",
  "  baton_stat() {",
  '    if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo absent; return 0; fi',
  `    stat -c "${STAT_FORMAT}" -- "$1"`,
  "  }",
  "fi",
  "if ! command -v baton_sha256 >/dev/null; then",
  '  baton_sha256() { baton_h=$(sha256sum < "$1") && baton_h=${baton_h%% *}; }',
  "fi",
].join("\n");
