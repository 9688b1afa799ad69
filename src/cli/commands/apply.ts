import type { Command } from "commander";
import { requireController } from "../api-client.js";
import { buildMissingReleases } from "../build-first.js";
import { whoAmI, withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState, withEnvOption } from "../definition.js";
import { printJson, say, useColor, warn } from "../output.js";
import { type PlanJson, renderPlanJson } from "../plan-view.js";
import { durationOption, waitConverged } from "./wait.js";

export function applyCommand(program: Command): void {
  withEnvOption(withCommonOptions(program.command("apply")))
    .description("hand the definition to the running controller; a bad definition changes nothing")
    .option("--wait", "wait until every app has converged (exit 1 if not within --timeout)")
    .option("--timeout <duration>", "with --wait: give up after this long", "5m")
    .option("--json", "machine-readable result")
    .action(
      async (options: EnvironmentOptions & { wait?: boolean; timeout: string; json?: boolean }) => {
        const timeoutMs = durationOption("--timeout", options.timeout);
        // Validated here first: a bad definition never reaches the controller.
        const { definition, dir } = loadForState(options);
        const client = requireController(dir);
        await buildMissingReleases(definition, dir, options.json ? warn : say);
        const body = await client.call("POST", "/api/v1/apply", {
          file: definition.file,
          source: definition.source,
          environment: definition.environment,
          appliedBy: whoAmI(),
        });
        const revision = body.revision as { id: number; created: boolean };
        if (options.json) printJson(body);
        else {
          say(renderPlanJson(body.plan as PlanJson, useColor()));
          const plan = body.plan as PlanJson;
          const moves = plan.steps.some((step) => step.type !== "unchanged");
          say(
            revision.created
              ? `applied as revision ${revision.id}`
              : moves
                ? `the definition is unchanged since revision ${revision.id}, yet what runs differs from it (an app's files changed?): applying the plan above`
                : `unchanged since revision ${revision.id}`,
          );
        }
        if (options.wait) await waitConverged(client, timeoutMs);
      },
    );
}
