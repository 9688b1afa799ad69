import { hostname, userInfo } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import { stateDirOf } from "../client/open.js";

export interface CommonOptions {
  readonly file?: string;
  readonly state?: string;
  readonly env?: string;
}

/** Adds the options every command takes. */
export function withCommonOptions(command: Command, withFile = true): Command {
  if (withFile) {
    command
      .option("-f, --file <file>", "the definition file", "baton.yaml")
      .option(
        "--env <name>",
        "the environment (under `environments:`): its controller's state directory (its `state:`) and its overrides; default: the one the state directory records",
      );
  }
  return command.option(
    "--state <dir>",
    "state directory (default: $BATON_STATE, else the `state:` of --env's environment, else .baton/ beside the definition)",
  );
}

export function definitionPath(options: CommonOptions): string {
  return resolve(options.file ?? "baton.yaml");
}

/**
 * `--state`, else `$BATON_STATE`, else the state directory `--env`'s environment declares,
 * else `.baton/` beside the definition file.
 */
export function stateDir(options: CommonOptions): string {
  return stateDirOf(options);
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
