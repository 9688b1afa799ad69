import type { Command } from "commander";
import type { BatonClient } from "../../client/client.js";
import type { Definition } from "../../definition/index.js";
import { clientFor } from "../connect.js";
import { whoAmI, withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { CliError } from "../errors.js";
import { hostOutcomesJson, renderHostOutcomes } from "../host-view.js";
import { printJson, say, useColor, warn } from "../output.js";
import { renderPlan } from "../plan-view.js";
import { showPlan } from "./plan.js";
import { durationOption, waitConverged } from "./wait.js";

export function applyCommand(program: Command): void {
  withCommonOptions(program.command("apply"))
    .description("hand the definition to the running controller; a bad definition changes nothing")
    .option("--wait", "wait until every app has converged (exit 1 if not within --timeout)")
    .option("--timeout <duration>", "with --wait: give up after this long", "5m")
    .option(
      "--json",
      "machine-readable result (hosts: per host changed, unchanged, removed, failed)",
    )
    .option("--check", "change nothing: show what would change (`baton plan`)")
    .action(
      async (
        options: EnvironmentOptions & {
          wait?: boolean;
          timeout: string;
          json?: boolean;
          check?: boolean;
        },
      ) => {
        if (options.check) return showPlan(options);
        const timeoutMs = durationOption("--timeout", options.timeout);
        // Validated here first: a bad definition never reaches the controller.
        const { definition, dir } = loadForState(options);
        const withHosts = Object.keys(definition.hosts.hosts).length > 0;
        const withApps = Object.keys(definition.apps).length > 0;
        const client = clientFor(options);
        // Hosts need no controller: like ansible-playbook, this run configures them and exits.
        if (client.mode === "local" && withHosts) {
          if (withApps) {
            warn(
              `apps are run by the controller, and none runs for ${dir}: \`baton up\` runs them`,
            );
          }
          await applyHosts(client, definition, options.json === true);
          return;
        }
        if (client.mode === "local") {
          throw new CliError(
            "controller.not_running",
            `no controller runs for ${dir}`,
            "start one with `baton up` (or `baton up --detach`)",
          );
        }
        const output = options.json ? warn : say;
        await buildMissing(client, definition, output);
        // The controller configures the hosts (one pass at a time, never beside its drift
        // checks) before any app moves, in the same apply.
        const body = await client.apply(definition, {
          by: whoAmI(),
          progress: output,
          hosts: withHosts,
        });
        const generation = body.generation;
        const hosts = body.hosts;
        if (hosts !== undefined) {
          if (!options.json) say(renderHostOutcomes(hosts, { color: useColor(), apply: true }));
          if (hosts.some((h) => !h.ok)) process.exitCode = 1;
        }
        if (options.json)
          printJson({
            ...body,
            ...(hosts === undefined ? {} : { hosts: hostOutcomesJson(hosts) }),
          });
        else {
          say(renderPlan(body.plan, { color: useColor() }));
          const moves = body.plan.steps.some((step) => step.type !== "unchanged");
          say(
            generation.created
              ? `applied as generation ${generation.id}`
              : moves
                ? `the definition is unchanged since generation ${generation.id}, yet what runs differs from it (an app's files changed?): applying the plan above`
                : `unchanged since generation ${generation.id}`,
          );
        }
        if (options.wait) await waitConverged(client, timeoutMs);
      },
    );
}

/**
 * Like `docker compose up`: an app with `build:` that was never built is built (and pushed,
 * and recorded) before the definition reaches the controller, with the build's progress.
 */
export async function buildMissing(
  client: BatonClient,
  definition: Definition,
  output: (line: string) => void,
): Promise<void> {
  for (const app of await client.unreleased(definition)) {
    output(`${app} has no release yet: building it`);
    const [built] = await client.build(definition, [app], { by: whoAmI(), output });
    if (built !== undefined) {
      output(`${app} release ${built.release.version} (${built.release.digest})`);
    }
  }
}

/** Every host of the environment configured from here; exit 1 when one fails. */
async function applyHosts(
  client: BatonClient,
  definition: Definition,
  json: boolean,
): Promise<void> {
  const hosts = await client.applyHosts(() => definition);
  if (json) printJson({ hosts: hostOutcomesJson(hosts) });
  else say(renderHostOutcomes(hosts, { color: useColor(), apply: true }));
  if (hosts.some((h) => !h.ok)) process.exitCode = 1;
}
