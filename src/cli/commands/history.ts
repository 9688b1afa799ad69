import type { Command } from "commander";
import type { AppHistory } from "../../apps/rollout-types.js";
import { requireController } from "../api-client.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
import { printJson, say, useColor } from "../output.js";
import { renderHistory } from "../rollout-view.js";

export function historyCommand(program: Command): void {
  withCommonOptions(program.command("history <app>"))
    .description("an app's rollouts, newest first; * marks the revision serving now")
    .option("--json", "the same JSON as GET /api/v1/apps/APP/history")
    .action(async (app: string, options: CommonOptions & { json?: boolean }) => {
      const client = requireController(stateDir(options));
      const history = (await client.call(
        "GET",
        `/api/v1/apps/${encodeURIComponent(app)}/history`,
      )) as unknown as AppHistory;
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
