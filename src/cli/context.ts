import { hostname, userInfo } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Command } from "commander";

export interface CommonOptions {
  readonly file?: string;
  readonly state?: string;
}

/** Adds the options every command takes. */
export function withCommonOptions(command: Command, withFile = true): Command {
  if (withFile) command.option("-f, --file <file>", "the definition file", "baton.yaml");
  return command.option(
    "--state <dir>",
    "state directory (default: $BATON_STATE, else .baton/ beside the definition)",
  );
}

export function definitionPath(options: CommonOptions): string {
  return resolve(options.file ?? "baton.yaml");
}

/** `--state`, else `$BATON_STATE`, else `.baton/` beside the definition file. */
export function stateDir(options: CommonOptions): string {
  const given = options.state ?? process.env.BATON_STATE;
  if (given !== undefined && given !== "") return isAbsolute(given) ? given : resolve(given);
  return join(dirname(definitionPath(options)), ".baton");
}

/** Who applies a definition, as recorded with its revision. */
export function whoAmI(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return `${user}@${hostname()}`;
}
