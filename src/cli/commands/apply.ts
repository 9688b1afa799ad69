import type { Command } from "commander";
import { shipDefinition } from "../../client/content.js";
import type { Definition } from "../../definition/index.js";
import type { HostOutcome } from "../../hosts/index.js";
import { findController, requireController } from "../api-client.js";
import { buildMissingReleases } from "../build-first.js";
import { whoAmI, withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { hasHosts, hostPass } from "../host-pass.js";
import { hostOutcomesJson, renderHostOutcomes } from "../host-view.js";
import { printJson, say, useColor, warn } from "../output.js";
import { type PlanJson, renderPlanJson } from "../plan-view.js";
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
        const withHosts = hasHosts(definition);
        const withApps = Object.keys(definition.apps).length > 0;
        const found = findController(dir);
        // Hosts need no controller: like ansible-playbook, this run configures them and exits.
        if (found === undefined && withHosts) {
          if (withApps) {
            warn(
              `apps are run by the controller, and none runs for ${dir}: \`baton up\` runs them`,
            );
          }
          const hosts = await applyHosts(definition, dir, options.json === true);
          if (options.json) printJson({ hosts: hostOutcomesJson(hosts) });
          return;
        }
        const client = found ?? requireController(dir);
        await buildMissingReleases(definition, dir, options.json ? warn : say);
        const body = await client.call(
          "POST",
          "/api/v1/apply",
          await shipDefinition(definition, client.blobs(), { stateDir: dir, appliedBy: whoAmI() }),
        );
        const generation = body.generation as { id: number; created: boolean };
        // The controller configures the hosts: one pass at a time, never beside its drift checks.
        const hosts = withHosts
          ? ((await client.call("POST", "/api/v1/hosts/apply", {})).hosts as HostOutcome[])
          : undefined;
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
          say(renderPlanJson(body.plan as PlanJson, useColor()));
          const plan = body.plan as PlanJson;
          const moves = plan.steps.some((step) => step.type !== "unchanged");
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

/** Every host of the environment configured from here; exit 1 when one fails. */
async function applyHosts(
  definition: Definition,
  dir: string,
  json: boolean,
): Promise<HostOutcome[]> {
  const color = useColor();
  const hosts = await hostPass(definition, dir, {
    apply: true,
    ...(definition.environment === undefined ? {} : { environment: definition.environment }),
  });
  if (!json) say(renderHostOutcomes(hosts, { color, apply: true }));
  if (hosts.some((h) => !h.ok)) process.exitCode = 1;
  return hosts;
}
