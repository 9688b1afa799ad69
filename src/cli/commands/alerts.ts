import type { Command } from "commander";
import { renderActive, renderHistory, renderSilences } from "../alert-view.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { printJson, say } from "../output.js";

export function alertsCommand(program: Command): void {
  withCommonOptions(program.command("alerts"))
    .description(
      "alerts pending and firing now, the silences in force, and (--history) what happened",
    )
    .option("--history", "also the recent state changes and notifications, newest first")
    .option("-n, --limit <count>", "how many history records", "30")
    .option("--json", "{ active, silences, history }")
    .action(
      async (options: CommonOptions & { history?: boolean; limit: string; json?: boolean }) => {
        const limit = Math.max(1, Number.parseInt(options.limit, 10) || 30);
        const body = await runningClientFor(options).alerts(limit);
        if (options.json)
          return printJson(options.history ? body : { ...body, history: undefined });
        const now = Date.now();
        say(renderActive(body.active, now));
        if (body.silences.length > 0) say(`\n${renderSilences(body.silences, now)}`);
        if (options.history) say(`\n${renderHistory(body.history)}`);
      },
    );
}
