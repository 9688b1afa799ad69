/**
 * The definition a state-bound command (up, plan, apply) works with: read from `--file`,
 * built for the environment given with `--env`, else the one the state directory records.
 */
import { resolve } from "node:path";
import { recordedEnvironment } from "../client/open.js";
import { type Definition, loadDefinition } from "../definition/index.js";
import { systemAccounts } from "../util/accounts.js";
import { type CommonOptions, definitionPath, stateDir } from "./context.js";
import { CliError } from "./errors.js";

/** The options of a command that builds the definition for an environment. */
export type EnvironmentOptions = CommonOptions;

/** The definition for the chosen environment, and the state directory it belongs to. */
export function loadForState(options: EnvironmentOptions): { definition: Definition; dir: string } {
  const dir = stateDir(options);
  const file = definitionPath(options);
  const recorded = options.env === undefined ? recordedEnvironment(dir) : undefined;
  const environment = options.env ?? recorded;
  const definition = loadDefinition(file, {
    exclude: [resolve(dir)],
    // The replicas of this state directory run on this machine: `user:` must be one of it.
    accounts: systemAccounts,
    ...(environment === undefined ? {} : { environment }),
  });
  // Apps differ per environment and need one chosen; hosts say their own (`env:`), so a
  // definition of hosts alone covers all of them when none is chosen, as an inventory does.
  const hasApps = Object.keys(definition.apps).length > 0;
  if (definition.environments.length > 0 && environment === undefined && hasApps) {
    throw new CliError(
      "cli.environment_required",
      `${file} declares the environments ${definition.environments.join(", ")}; choose one`,
      `pass --env ${definition.environments[0]} (the state directory then remembers it)`,
      2,
    );
  }
  return { definition, dir };
}
