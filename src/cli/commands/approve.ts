import type { Command } from "commander";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, whoAmI, withCommonOptions } from "../context.js";
import { printJson, say } from "../output.js";

export function approveCommand(program: Command): void {
  withCommonOptions(program.command("approve <run>"))
    .description(
      "approve the promotion a run waits for (`approval: manual`); who approved is recorded",
    )
    .option("--json", "{ run, steps }")
    .action(async (id: string, options: CommonOptions & { json?: boolean }) => {
      const body = await runningClientFor(options).approveRun(id, { by: whoAmI() });
      if (options.json) return printJson(body);
      // Who approved is the token's name, as the controller recorded it.
      const approved = body.steps.filter((s) => s.approvedBy !== null).at(-1);
      say(`run #${id} approved by ${approved?.approvedBy ?? "?"}`);
    });
}
