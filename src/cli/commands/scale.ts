import type { Command } from "commander";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say } from "../output.js";

export function scaleCommand(program: Command): void {
  withCommonOptions(program.command("scale <app> <replicas>"))
    .description("set an app's replica count until the definition's own count changes")
    .option("--json", "machine-readable result")
    .action(async (app: string, replicas: string, options: CommonOptions & { json?: boolean }) => {
      const count = Number(replicas);
      if (!/^\d+$/.test(replicas) || !Number.isSafeInteger(count)) {
        throw new CliError(
          "scale.invalid",
          `replicas must be a whole number ≥ 0, found ${JSON.stringify(replicas)}`,
          `write \`baton scale ${app} 3\``,
        );
      }
      const body = await runningClientFor(options).scale(app, count);
      if (options.json) printJson(body);
      else say(`${app} scaling to ${count}; \`baton wait\` waits until they are ready`);
    });
}
