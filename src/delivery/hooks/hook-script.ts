import { quoteArg } from "../../hosts/quote.js";

export interface HookScriptOptions {
  /** The node binary that runs the CLI (absolute: hooks run with a bare PATH). */
  readonly node: string;
  /** The Baton CLI script. */
  readonly cli: string;
  /** The controller's state folder; the notifications' output goes to a log file in it. */
  readonly stateDir: string;
  /** Only this pipeline is notified (all pipelines of the repository when absent). */
  readonly pipeline?: string;
  /** The notify command is killed after this long if it hangs (default 120 s). */
  readonly notifyTimeoutSeconds?: number;
}

/** The line that tells Baton's hook from any other one. */
export const HOOK_MARKER = "# baton post-receive hook";
export const PREVIOUS_HOOK_NAME = "post-receive.baton-previous";
export const HOOK_LOG_NAME = "hook-notify.log";

/**
 * The text of a `post-receive` hook (POSIX sh). For each `old new ref` line git gives it,
 * it starts `NODE CLI hooks notify --state DIR [--pipeline P] --repo REPO REF OLD NEW`
 * detached (REPO: the repository's absolute, symlink-free path), its
 * output to DIR/hook-notify.log, and exits 0 at once: a push never waits for Baton and never
 * fails because Baton is down. A hook that was there before (kept beside as
 * post-receive.baton-previous) runs first, with the same input and arguments.
 */
export function hookScript(options: HookScriptOptions): string {
  const notify = [options.node, options.cli, "hooks", "notify", "--state", options.stateDir];
  if (options.pipeline !== undefined) notify.push("--pipeline", options.pipeline);
  const command = `${notify.map(quoteArg).join(" ")} --repo "$repo" "$ref" "$old" "$new"`;
  const timeout = options.notifyTimeoutSeconds ?? 120;
  return `#!/bin/sh
${HOOK_MARKER} (written by \`baton hooks install\`; \`baton hooks uninstall\` restores what was here)
# Tells Baton which refs moved, in the background: the push does not wait for it.
hook_dir=$(cd "$(dirname "$0")" && pwd)
# The repository pushed to, as an absolute path (git runs the hook in it, GIT_DIR relative).
repo=$(cd "\${GIT_DIR:-.}" && pwd -P)
# A working repository is named by its folder, not by its .git.
case "$repo" in */.git) repo=\${repo%/.git} ;; esac
input=$(cat)

if [ -x "$hook_dir/${PREVIOUS_HOOK_NAME}" ]; then
  printf '%s\\n' "$input" | "$hook_dir/${PREVIOUS_HOOK_NAME}" "$@"
fi

state=${quoteArg(options.stateDir)}
log="$state/${HOOK_LOG_NAME}"
mkdir -p "$state" 2>/dev/null
# One old generation is kept: the log never grows past about 2 MB.
if [ -f "$log" ] && [ "$(wc -c <"$log")" -gt 1048576 ]; then mv -f "$log" "$log.1" 2>/dev/null; fi
# Baton's git commands work on repositories of their own: this hook's variables would point them here.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_QUARANTINE_PATH GIT_NAMESPACE GIT_PREFIX
limit=
if command -v timeout >/dev/null 2>&1; then limit="timeout ${timeout}"; fi

printf '%s\\n' "$input" | while read -r old new ref; do
  [ -n "$ref" ] || continue
  # A subshell whose child is left to init, all of its output away from git's pipe:
  # git waits for nothing.
  ( $limit ${command} </dev/null >>"$log" 2>&1 & ) 2>/dev/null
done
exit 0
`;
}
