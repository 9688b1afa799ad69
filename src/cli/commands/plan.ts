import type { Command } from "commander";
import type { PlanJson } from "../../api/index.js";
import { clientFor } from "../connect.js";
import { withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { hostOutcomesJson, renderHostOutcomes } from "../host-view.js";
import { printJson, say, useColor } from "../output.js";
import { renderPlan } from "../plan-view.js";

export function planCommand(program: Command): void {
  withCommonOptions(program.command("plan"))
    .description("show what applying the definition would change; changes nothing")
    .option("--json", "machine-readable plan")
    .action(showPlan);
}

/** `baton plan`, and `baton apply --check`: apps and hosts, changing nothing. */
export async function showPlan(options: EnvironmentOptions & { json?: boolean }): Promise<void> {
  const { definition } = loadForState(options);
  // With a controller, its plan against what it runs; with none, the same against what the
  // runtimes still find. Hosts are compared with the definition over SSH either way.
  const answer = await clientFor(options).plan(definition);
  const hosts = answer.hosts;
  if (hosts?.some((h) => !h.ok)) process.exitCode = 1;
  const withApps = Object.keys(definition.apps).length > 0 || hosts === undefined;
  const plan: PlanJson | undefined = withApps ? answer.plan : undefined;
  if (options.json) {
    return printJson({
      ...(plan === undefined
        ? {}
        : {
            summary: plan.summary,
            steps: plan.steps.map((s) => ({
              id: s.id,
              type: s.type,
              reason: s.reason,
              changes: s.changes ?? [],
              after: s.after,
            })),
          }),
      ...(hosts === undefined ? {} : { hosts: hostOutcomesJson(hosts) }),
    });
  }
  if (plan !== undefined) say(renderPlan(plan, { color: useColor() }));
  if (hosts !== undefined) say(renderHostOutcomes(hosts, { color: useColor(), apply: false }));
}
