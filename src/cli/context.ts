import { readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import type { Command } from "commander";
import { parse } from "yaml";

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
  const given = options.state ?? process.env.BATON_STATE;
  if (given !== undefined && given !== "") return isAbsolute(given) ? given : resolve(given);
  const file = definitionPath(options);
  const declared = options.env === undefined ? undefined : declaredState(file, options.env);
  return resolve(dirname(file), declared ?? ".baton");
}

/**
 * `environments.<env>.state` as the file writes it, read without validating the whole
 * definition (commands such as `baton approve` only need to find a controller). A file that
 * cannot be read says nothing here: the commands that load it report why.
 */
function declaredState(file: string, env: string): string | undefined {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const state = field(field(field(doc, "environments"), env), "state");
  return typeof state === "string" && state !== "" ? state : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
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
