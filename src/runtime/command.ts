import { expandVariables } from "../definition/index.js";
import type { Command } from "../definition/model.js";

/**
 * Turns a definition's command into the argv to exec. `${NAME}` takes the value from the
 * replica's environment (an unset name becomes empty, as in a shell); `$$` is a literal `$`.
 * A string command runs under `/bin/sh -c` and is left to the shell to expand.
 */
export function commandArgv(command: Command, env: Readonly<Record<string, string>>): string[] {
  if ("shell" in command) return ["/bin/sh", "-c", command.shell];
  return command.argv.map((arg) => expandVariables(arg, (name) => env[name]));
}
