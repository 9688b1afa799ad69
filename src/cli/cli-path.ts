import { realpathSync } from "node:fs";

/**
 * The script this CLI runs from (through any `npm link` symlink), for what must call Baton
 * later on its own — a git hook.
 */
export function cliPath(): string {
  const script = process.argv[1];
  if (script === undefined) throw new Error("bug: the CLI runs without a script path");
  return realpathSync(script);
}
