import type { Command } from "commander";
import { clientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { printJson, say, useColor } from "../output.js";
import { renderHistory } from "../rollout-view.js";

export function historyCommand(program: Command): void {
  withCommonOptions(program.command("history <app>"))
    .description("an app's rollouts, newest first; * marks the revision serving now")
    .option("--json", "the same JSON as GET /api/v1/apps/APP/history")
    .action(async (app: string, options: CommonOptions & { json?: boolean }) => {
      // History is a record: read by the controller, or from the store when none runs.
      const history = await clientFor(options).history(app);
      if (options.json) return printJson(history);
      say(
        renderHistory(history, {
          color: useColor(),
          // Only a terminal has a width to fit; a pipe gets every reason's whole first line.
          width: process.stdout.isTTY ? process.stdout.columns : undefined,
        }),
      );
    });
}
